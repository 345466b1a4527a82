//! Packs the bundled Public Suffix List (`src/pinning/public_suffix_list.dat`) with deflate into
//! `OUT_DIR`: every byte of the text would ship in each app's native library, and the packed
//! list is under a third of it (README, "Size and start-up figures"). `pinning::host` unpacks it
//! on first use; its tests check that the unpacked bytes are the text.

fn main() {
    let source = "src/pinning/public_suffix_list.dat";
    println!("cargo::rerun-if-changed={source}");
    let text = std::fs::read(source).unwrap_or_else(|e| panic!("cannot read {source}: {e}"));
    let packed = miniz_oxide::deflate::compress_to_vec(&text, 10);
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = out.join("public_suffix_list.dat.deflate");
    std::fs::write(&target, packed)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}
