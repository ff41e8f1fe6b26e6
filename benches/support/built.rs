//! W5 through `dlc build`: the object file linked into a shared library
//! with the system's `cc`, loaded with `dlopen`, and called as a C program
//! would call it.

use std::ffi::{CStr, CString};
use std::path::Path;

type Predict = unsafe extern "C" fn(*const f32, usize, *mut f32) -> i32;

/// A loaded shared library; closed on drop.
struct Library(*mut libc::c_void);

impl Library {
    fn open(path: &Path) -> Result<Library, String> {
        let c = CString::new(path.to_str().ok_or("a UTF-8 path")?).map_err(|e| e.to_string())?;
        // SAFETY: a valid C string; the library is ours and has no constructors.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns a C string describing the last failure.
            let why = unsafe { CStr::from_ptr(libc::dlerror()) };
            return Err(why.to_string_lossy().into_owned());
        }
        Ok(Library(handle))
    }

    fn predict(&self, symbol: &str) -> Result<Predict, String> {
        let c = CString::new(symbol).map_err(|e| e.to_string())?;
        // SAFETY: the handle is open; the symbol is looked up by name.
        let f = unsafe { libc::dlsym(self.0, c.as_ptr()) };
        if f.is_null() {
            return Err(format!("no symbol {symbol}"));
        }
        // SAFETY: `dlc build` defines `<net>_predict` with this signature.
        Ok(unsafe { std::mem::transmute::<*mut libc::c_void, Predict>(f) })
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: opened by `open`, closed once.
        unsafe { libc::dlclose(self.0) };
    }
}

/// W5's network built by `dlc build`, linked into a shared library and
/// loaded; the directory is removed on drop.
pub struct Built {
    predict: Predict,
    width: usize,
    input_len: usize,
    // Closed before the directory goes.
    _lib: Library,
    dir: std::path::PathBuf,
}

impl Built {
    pub fn new(
        model: &dlc::CompiledModel,
        preparation: &dlc::data::Preparation,
    ) -> Result<Built, String> {
        let dir = std::env::temp_dir().join(format!("dlc-bench-built-{}", std::process::id()));
        let built = dlc::deploy::build(model, preparation, &Default::default())
            .map_err(|e| e.to_string())?;
        built.write_to(&dir).map_err(|e| e.to_string())?;
        let object = dir.join(format!("{}.o", built.name));
        let library = dir.join(format!("lib{}.so", built.name));
        let status = std::process::Command::new("cc")
            .arg("-shared")
            .arg("-o")
            .arg(&library)
            .arg(&object)
            .status()
            .map_err(|e| format!("cc: {e}"))?;
        if !status.success() {
            return Err("cc could not link the object into a shared library".into());
        }
        let lib = Library::open(&library)?;
        let predict = lib.predict(&format!("{}_predict", built.name))?;
        Ok(Built {
            predict,
            width: model.output_width(),
            input_len: model.input_len(),
            _lib: lib,
            dir,
        })
    }

    /// `predict` on the samples in `x`, as a C caller would call it.
    pub fn predict(&self, x: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        let n = x.len() / self.input_len;
        out.resize(n * self.width, 0.0);
        // SAFETY: `x` holds n samples and `out` room for n outputs.
        let r = unsafe { (self.predict)(x.as_ptr(), n, out.as_mut_ptr()) };
        if r == 0 {
            Ok(())
        } else {
            Err(format!("predict returned {r}"))
        }
    }
}

impl Drop for Built {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
