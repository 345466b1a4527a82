// The example app (framework views only), built with the Mamori AAR from `cargo xtask android`
// (published to ../target/android/maven). Gradle 8.14, Android Gradle Plugin 8.13.0, JDK 17.
// Not run on the project's build machines (no Android SDK, no Google Maven): there its Activity
// runs under Robolectric through pom.xml (`cargo xtask kotlin-test`).
plugins {
    id("com.android.application") version "8.13.0"
    id("org.jetbrains.kotlin.android") version "2.4.21"
}

android {
    namespace = "jp.mamori.example"
    compileSdk = 36
    defaultConfig {
        applicationId = "jp.mamori.example"
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
    }
    buildTypes {
        release {
            isMinifyEnabled = true // exercises the AAR's consumer R8 rules
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"))
        }
    }
    sourceSets["main"].kotlin.srcDir("src/main/kotlin")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    packaging {
        jniLibs.useLegacyPackaging = false // uncompressed, 16 KB-aligned .so in the APK
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation("jp.mamori:mamori-android:0.1.0")
    // The Activity launches coroutines itself; the AAR's copy is not on the app's compile classpath.
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    implementation("com.squareup.okhttp3:okhttp:5.5.1")
}
