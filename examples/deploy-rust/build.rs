//! Links the object file `dlc build --name model` wrote: `DLC_BUILT` names
//! its directory. The header's sizes become compile-time constants.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=DLC_BUILT");
    let dir = PathBuf::from(
        std::env::var("DLC_BUILT")
            .expect("set DLC_BUILT to the directory `dlc build --name model -o DIR` wrote"),
    );
    let object = dir.join("model.o");
    let header = dir.join("model.h");
    assert!(object.exists(), "{} is missing: build the model with `--name model`", object.display());
    println!("cargo:rerun-if-changed={}", object.display());
    println!("cargo:rerun-if-changed={}", header.display());
    // The object is linked as it is, like any other object file.
    println!("cargo:rustc-link-arg={}", object.display());
    let text = std::fs::read_to_string(&header).expect("the header");
    for name in ["MODEL_INPUTS", "MODEL_OUTPUTS"] {
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} in the header"));
        println!("cargo:rustc-env={name}={}", value.trim());
    }
}
