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
        maven { url = uri(rootDir.resolve("../target/android/maven")) } // `cargo xtask android`
        google()
        mavenCentral()
    }
}

rootProject.name = "mamori-example"
