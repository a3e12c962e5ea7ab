//! A run's configuration as a short, readable, hand-editable link fragment, e.g.
//! `seed=3&data.dataset=digits&loss.tau=0.1&model.encoder=128,64`. Only values that differ from the
//! defaults are written, so links stay short. Reading a fragment that is broken in any way (unknown key,
//! bad value, invalid combination) falls back to the defaults and says what was wrong.

use serde_json::{Map, Value};

use crate::config::RunConfig;
use crate::error::{Error, Result, shown};

/// Characters kept as they are in a fragment value; everything else is percent-encoded.
fn keep(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ',' | '~' | ':' | '/')
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

fn percent_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or_else(|| Error::invalid(format!("bad escape in {}", shown(s))))?;
                let b = u8::from_str_radix(hex, 16)
                    .map_err(|_| Error::invalid(format!("bad escape %{} in {}", hex.escape_debug(), shown(s))))?;
                out.push(b);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::invalid(format!("{} is not valid UTF-8", shown(s))))
}

/// Flattens nested objects into dotted keys.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        // Config floats are f32: print the shortest text that reads back to the same f32 (0.07, not
        // 0.07000000029802322).
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(0.0);
            if (x as f32) as f64 == x { format!("{}", x as f32) } else { format!("{x}") }
        }
        other => other.to_string(),
    }
}

/// The fragment for `cfg` (without the leading '#').
pub fn to_fragment(cfg: &RunConfig) -> String {
    let (mut cur, mut def) = (Vec::new(), Vec::new());
    flatten("", &serde_json::to_value(cfg).expect("config serialises"), &mut cur);
    flatten("", &serde_json::to_value(RunConfig::default()).expect("config serialises"), &mut def);
    cur.into_iter()
        .filter(|(k, v)| def.iter().find(|(dk, _)| dk == k).map(|(_, dv)| dv != v).unwrap_or(true))
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| format!("{k}={}", percent_encode(&value_text(&v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// Parses `text` as a value of the same JSON type as `like` (the default at that key).
fn parse_like(key: &str, text: &str, like: &Value) -> Result<Value> {
    let bad = |what: &str| Error::invalid(format!("{}: {what}", shown(&format!("{key}={text}"))));
    Ok(match like {
        Value::Bool(_) => match text {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(bad("expected true or false")),
        },
        Value::Number(n) => {
            if n.is_u64() || n.is_i64() {
                Value::from(text.parse::<u64>().map_err(|_| bad("expected a whole number"))?)
            } else {
                let x: f64 = text.parse().map_err(|_| bad("expected a number"))?;
                if !x.is_finite() {
                    return Err(bad("expected a finite number"));
                }
                Value::from(x)
            }
        }
        Value::Array(_) => {
            if text.is_empty() {
                Value::Array(vec![])
            } else {
                let items: std::result::Result<Vec<u64>, _> =
                    text.split(',').map(|s| s.trim().parse::<u64>()).collect();
                Value::Array(
                    items
                        .map_err(|_| bad("expected whole numbers separated by commas"))?
                        .into_iter()
                        .map(Value::from)
                        .collect(),
                )
            }
        }
        Value::String(_) | Value::Null => Value::String(text.to_string()),
        Value::Object(_) => return Err(bad("is a section, not a value")),
    })
}

fn set_path(root: &mut Value, key: &str, v: Value) {
    let mut cur = root;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur[*p] = v;
            return;
        }
        cur = &mut cur[*p];
    }
}

/// Reads a fragment (with or without a leading '#'). Errors name the offending key or value.
pub fn from_fragment(fragment: &str) -> Result<RunConfig> {
    let fragment = fragment.trim_start_matches('#');
    let mut settings = Vec::new();
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| Error::invalid(format!("{} has no '='", shown(pair))))?;
        settings.push((percent_decode(k)?, percent_decode(v)?));
    }
    apply_settings(&RunConfig::default(), &settings)
}

/// `base` with each (key, value) setting applied, in order — the fragment's keys and its value text
/// (`loss.tau` = `0.1`, `model.encoder` = `32,32,16`). The result is validated. Lessons use it for the
/// settings each step makes.
pub fn apply_settings(base: &RunConfig, settings: &[(String, String)]) -> Result<RunConfig> {
    let mut root = serde_json::to_value(base).expect("config serialises");
    let mut defaults = Vec::new();
    flatten("", &serde_json::to_value(RunConfig::default()).expect("config serialises"), &mut defaults);
    for (key, text) in settings {
        let like = defaults
            .iter()
            .find(|(dk, _)| dk == key)
            .map(|(_, dv)| dv.clone())
            .ok_or_else(|| Error::invalid(format!("unknown setting {}", shown(key))))?;
        set_path(&mut root, key, parse_like(key, text, &like)?);
    }
    let _: &Map<String, Value> = root.as_object().expect("config is an object");
    let cfg: RunConfig = serde_json::from_value(root).map_err(|e| Error::invalid(e.to_string()))?;
    cfg.validate()?;
    Ok(cfg)
}

/// The value text of one setting of `cfg` (as a fragment writes it), or None for an unknown key.
pub fn setting_text(cfg: &RunConfig, key: &str) -> Option<String> {
    let mut all = Vec::new();
    flatten("", &serde_json::to_value(cfg).expect("config serialises"), &mut all);
    all.into_iter().find(|(k, _)| k == key).map(|(_, v)| value_text(&v))
}

/// The keys of a link that say how to show the lab rather than what to train: the lesson and its step, the
/// presenter and embed modes, and the controls and panels to fold away.
pub const VIEW_KEYS: [&str; 5] = ["lesson", "step", "presenter", "embed", "hide"];

/// How a link asks the lab to be shown (`#lesson=temperature&step=3&presenter=1&hide=loss,theory`).
/// Values are kept as written; the app checks them against its lessons and panels and says what it could
/// not use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewLink {
    pub lesson: Option<String>,
    pub step: Option<String>,
    pub presenter: bool,
    pub embed: bool,
    pub hide: Vec<String>,
}

impl ViewLink {
    pub fn is_empty(&self) -> bool {
        *self == ViewLink::default()
    }
}

/// Splits a fragment into its view keys and the rest (the run's settings, for `from_fragment`).
/// `presenter` and `embed` are on for `1`, `true` or no value; a value that cannot be decoded is kept as
/// written, so the notice can name it.
pub fn split_view_keys(fragment: &str) -> (ViewLink, String) {
    let mut link = ViewLink::default();
    let mut rest = Vec::new();
    for pair in fragment.trim_start_matches('#').split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(v).unwrap_or_else(|_| v.to_string());
        let on = matches!(value.as_str(), "" | "1" | "true");
        match k {
            "lesson" => link.lesson = Some(value),
            "step" => link.step = Some(value),
            "presenter" => link.presenter = on,
            "embed" => link.embed = on,
            "hide" => link.hide.extend(value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from)),
            _ => rest.push(pair),
        }
    }
    (link, rest.join("&"))
}

/// Reads a fragment, falling back to the defaults with a notice that says what was wrong.
pub fn from_fragment_or_default(fragment: &str) -> (RunConfig, Option<String>) {
    match from_fragment(fragment) {
        Ok(cfg) => (cfg, None),
        Err(e) => (
            RunConfig::default(),
            Some(format!("The link's settings could not be used ({e}); starting from the defaults.")),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn view_keys_are_split_from_the_settings() {
        let (link, rest) = split_view_keys("#lesson=temperature&step=3&loss.tau=0.1&presenter=1&hide=loss,theory");
        assert_eq!(link.lesson.as_deref(), Some("temperature"));
        assert_eq!(link.step.as_deref(), Some("3"));
        assert!(link.presenter && !link.embed);
        assert_eq!(link.hide, vec!["loss", "theory"]);
        assert_eq!(rest, "loss.tau=0.1");
        let (link, rest) = split_view_keys("seed=4&embed");
        assert!(link.embed && link.lesson.is_none());
        assert_eq!(rest, "seed=4");
        assert!(split_view_keys("").0.is_empty());
    }

    #[test]
    fn settings_apply_on_a_base_and_read_back() {
        let mut base = RunConfig::default();
        base.seed = 11;
        let cfg = apply_settings(&base, &[("loss.tau".into(), "0.05".into()), ("model.encoder".into(), "8,4".into())])
            .unwrap();
        assert_eq!(cfg.seed, 11);
        assert_eq!(cfg.loss.tau, 0.05);
        assert_eq!(cfg.model.encoder, vec![8, 4]);
        assert_eq!(setting_text(&cfg, "model.encoder").as_deref(), Some("8,4"));
        assert_eq!(setting_text(&cfg, "loss.tau").as_deref(), Some("0.05"));
        assert!(setting_text(&cfg, "loss.nope").is_none());
        let e = apply_settings(&base, &[("loss.nope".into(), "1".into())]).unwrap_err().to_string();
        assert!(e.contains("loss.nope"), "{e}");
    }

    use super::*;
    use crate::config::{DatasetKind, LossKind, PairMode};

    #[test]
    fn default_config_gives_an_empty_fragment() {
        assert_eq!(to_fragment(&RunConfig::default()), "");
        assert_eq!(from_fragment("").unwrap(), RunConfig::default());
    }

    #[test]
    fn a_changed_config_round_trips_through_its_fragment() {
        let mut cfg = RunConfig::default();
        cfg.seed = 42;
        cfg.data.dataset = DatasetKind::Digits;
        cfg.data.omega = 0.2;
        cfg.model.encoder = vec![128, 64];
        cfg.model.projector = vec![];
        cfg.loss.kind = LossKind::AlignUniform;
        cfg.loss.tau = 0.07;
        cfg.selection.mode = PairMode::None;
        cfg.data.csv_path = Some("my data/points 1.csv".into());
        let f = to_fragment(&cfg);
        assert!(
            f.contains("seed=42") && f.contains("data.dataset=digits") && f.contains("model.encoder=128,64"),
            "{f}"
        );
        assert_eq!(from_fragment(&format!("#{f}")).unwrap(), cfg);
    }

    #[test]
    fn a_broken_fragment_falls_back_to_defaults_and_names_the_problem() {
        for (frag, needle) in [
            ("loss.temperature=3", "loss.temperature"),
            ("loss.tau=hot", "loss.tau"),
            ("loss.tau=-1", "tau"),
            ("data.dataset=mnist", "mnist"),
            ("seed", "seed"),
            ("model.encoder=64,x", "model.encoder"),
            ("%zz=1", "escape"),
        ] {
            let (cfg, notice) = from_fragment_or_default(frag);
            assert_eq!(cfg, RunConfig::default(), "{frag}");
            let notice = notice.unwrap_or_default();
            assert!(notice.contains(needle), "{frag}: {notice}");
        }
    }
}
