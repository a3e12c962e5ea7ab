//! The desktop binary's command line (src/main.rs): which backend, a saved config, and the view a browser link's
//! hash would give (a lesson at a step, presenter or embed mode, hidden panels). Parsed here, apart from
//! `main`, so a mistyped flag is named instead of ignored, and so it is tested.

use spherelab_core::url_state::ViewLink;

use crate::backend_choice::BackendPreference;

/// What `spherelab-app --help` prints.
pub const USAGE: &str = "\
spherelab-app: the contrastive-learning lab in a window (it opens training two moons)

Usage: spherelab-app [OPTIONS]

Options:
  --cpu               compute on the CPU engine
  --gpu               ask for the GPU (still falls back to the CPU, saying why, when none is usable)
  --config FILE       start from a run config saved by the Export tab (.json)
  --lesson ID         open a lesson (e.g. temperature); --step N opens it at step N (from 1)
  --presenter         draw everything 1.35x larger, for a projector
  --embed             drop the toolbar (as the browser's embed=1 does for slides)
  --hide P1,P2        fold named controls and views away (e.g. loss,theory)
  -h, --help          print this and exit

Without a window (over SSH, in a script) the CLI runs the same engine: spherelab train --help.";

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct DesktopArgs {
    pub backend: BackendPreference,
    /// `--config`'s file, not yet read.
    pub config: Option<String>,
    pub link: ViewLink,
    pub help: bool,
}

/// Parses the arguments after the program's name. An unknown option, or one missing its value, is an error
/// that names it.
pub fn parse(args: &[String]) -> Result<DesktopArgs, String> {
    let mut out =
        DesktopArgs { backend: BackendPreference::Auto, config: None, link: ViewLink::default(), help: false };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str, what: &str| {
            it.next().filter(|v| !v.starts_with("--")).cloned().ok_or_else(|| format!("{flag} needs {what}"))
        };
        match arg.as_str() {
            "--cpu" => out.backend = BackendPreference::Cpu,
            "--gpu" => out.backend = BackendPreference::Gpu,
            "--config" => out.config = Some(value("--config", "a file: --config run.json")?),
            "--lesson" => out.link.lesson = Some(value("--lesson", "a lesson's id: --lesson temperature")?),
            "--step" => out.link.step = Some(value("--step", "a step number: --step 3")?),
            "--presenter" => out.link.presenter = true,
            "--embed" => out.link.embed = true,
            "--hide" => {
                let list = value("--hide", "panel names: --hide loss,theory")?;
                out.link.hide.extend(list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from));
            }
            "-h" | "--help" => out.help = true,
            other => return Err(format!("unknown option '{other}' (spherelab-app --help lists them)")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn no_arguments_are_the_default_run_on_the_automatic_backend() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.backend, BackendPreference::Auto);
        assert_eq!((a.config, a.help), (None, false));
        assert!(a.link.is_empty());
    }

    #[test]
    fn every_option_lands_where_main_reads_it() {
        let a = parse(&args(
            "--cpu --config run.json --lesson temperature --step 3 --presenter --embed --hide loss,theory",
        ))
        .unwrap();
        assert_eq!(a.backend, BackendPreference::Cpu);
        assert_eq!(a.config.as_deref(), Some("run.json"));
        assert_eq!(a.link.lesson.as_deref(), Some("temperature"));
        assert_eq!(a.link.step.as_deref(), Some("3"));
        assert!(a.link.presenter && a.link.embed);
        assert_eq!(a.link.hide, ["loss", "theory"]);
        assert_eq!(parse(&args("--gpu")).unwrap().backend, BackendPreference::Gpu);
        assert!(parse(&args("-h")).unwrap().help && parse(&args("--help")).unwrap().help);
    }

    #[test]
    fn a_mistyped_option_or_a_missing_value_is_named() {
        let e = parse(&args("--cpuu")).unwrap_err();
        assert!(e.contains("'--cpuu'") && e.contains("--help"), "{e}");
        for (line, flag) in [("--config", "--config"), ("--lesson --presenter", "--lesson"), ("--step", "--step")] {
            let e = parse(&args(line)).unwrap_err();
            assert!(e.starts_with(&format!("{flag} needs")), "{line}: {e}");
        }
    }

    #[test]
    fn the_usage_names_every_option_the_parser_takes() {
        for flag in ["--cpu", "--gpu", "--config", "--lesson", "--step", "--presenter", "--embed", "--hide", "--help"] {
            assert!(USAGE.contains(flag), "{flag} is missing from the usage");
        }
    }
}
