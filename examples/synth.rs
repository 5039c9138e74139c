//! Regenerates the synthetic example data in `examples/data/`:
//! `cargo run --example synth [-- OUT_DIR]`.
//!
//! The data are synthetic (see `examples/data/README.md`); a test checks that
//! the committed files are exactly what this generator produces.

fn main() -> std::process::ExitCode {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/data".to_string());
    match playbook::synth::write_to(
        std::path::Path::new(&out),
        &playbook::synth::SynthSpec::default(),
    ) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write synthetic data to {out}: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
