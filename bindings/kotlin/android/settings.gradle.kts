// Gradle settings for building the Mamori Android library (AAR) outside this repository's
// Maven build. NOT run on the project's build machines (no Android SDK there): the Maven module
// beside this file only compiles the Kotlin sources against android-all. Kept in step by hand.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "mamori-android"
