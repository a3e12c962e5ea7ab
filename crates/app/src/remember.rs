//! What the app remembers between starts: only that the welcome card was answered. One small file natively
//! (`$XDG_CONFIG_HOME/spherelab/welcome-answered`, else `~/.config/…`), one local-storage key in the browser
//! (`spherelab.welcome` = `true`). Not eframe's persistence, which would also bring RON and a serialised copy
//! of egui's whole memory into the wasm for this one bit. Failing to read or write is not an error: the card
//! shows again, nothing else changes.

#[cfg(not(target_arch = "wasm32"))]
fn marker() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".config")))?;
    Some(base.join("spherelab").join("welcome-answered"))
}

/// The welcome card was answered on an earlier start.
pub fn welcome_answered() -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    {
        marker().is_some_and(|p| p.exists())
    }
    #[cfg(target_arch = "wasm32")]
    {
        let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
        storage.and_then(|s| s.get_item(KEY).ok().flatten()).is_some_and(|v| v == "true")
    }
}

/// Remembers that the welcome card was answered.
pub fn remember_welcome_answered() {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(p) = marker() {
        let _ = p.parent().map(std::fs::create_dir_all);
        let _ = std::fs::write(p, "The welcome card was answered; delete this file to see it again.\n");
    }
    #[cfg(target_arch = "wasm32")]
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(KEY, "true");
    }
}

#[cfg(target_arch = "wasm32")]
const KEY: &str = "spherelab.welcome";
