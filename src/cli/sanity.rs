//! `dlc sanity`: three quick checks before a long run (see `dlc::recipe::sanity`).

use super::{backend, open_bench};
use dlc::recipe::{SanityOptions, sanity as run_checks};

pub struct SanityArgs {
    pub max_steps: Option<usize>,
    pub samples: Option<usize>,
    pub interpret: bool,
}

/// Exit code: 0 when every check passes, 1 when one fails or the program
/// has errors, 2 for I/O and data errors.
pub fn sanity(file: &std::path::Path, args: SanityArgs) -> u8 {
    let (bench, _) = match open_bench(file, backend(args.interpret), "check") {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mut options = SanityOptions::default();
    if let Some(s) = args.max_steps {
        options.max_steps = s;
    }
    options.overfit_samples = args.samples;
    let result = run_checks(&bench, &options, &mut |c| println!("{}", c.text()));
    match result {
        Ok(report) => {
            let failed = report.checks.iter().filter(|c| !c.passed).count();
            if failed == 0 {
                println!("sanity: all {} checks passed", report.checks.len());
                0
            } else {
                println!("sanity: {failed} of {} checks failed", report.checks.len());
                1
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
