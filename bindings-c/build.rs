//! Gives the shared library its SONAME, `libstarfleet_secrets.so.<major>`, so programs linked
//! against one release keep loading any later release with the same major version (the name
//! the C SDK installs the library under; see `scripts/install-c-sdk`).

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libstarfleet_secrets.so.{major}");
    }
}
