// Gradle settings for building the Mamori Android library (AAR) with `cargo xtask android`.
// NOT run on the project's build machines (no Android SDK, no Google Maven there): the Maven
// module beside this file compiles the same sources, android-test runs them under Robolectric.
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
