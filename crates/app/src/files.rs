//! Saving the files the Export tab makes. On the desktop they are written into a folder the user names; in the
//! browser, which has no file system, each becomes a download (a Blob behind a temporary link).

/// Saves `files` (name, bytes) and returns a sentence saying where, or why not.
#[cfg(not(target_arch = "wasm32"))]
pub fn save(folder: &str, files: &[(&str, Vec<u8>)]) -> Result<String, String> {
    let dir = std::path::Path::new(folder);
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    std::fs::create_dir_all(dir)
        .and_then(|_| files.iter().try_for_each(|(name, bytes)| std::fs::write(dir.join(name), bytes)))
        .map(|_| format!("Wrote {} to {}", names.join(", "), dir.display()))
        .map_err(|e| format!("Could not write to {}: {e}", dir.display()))
}

/// Saves `files` (name, bytes) as downloads and returns a sentence saying so, or why not.
#[cfg(target_arch = "wasm32")]
pub fn save(_folder: &str, files: &[(&str, Vec<u8>)]) -> Result<String, String> {
    for (name, bytes) in files {
        download(name, bytes).map_err(|e| format!("Could not download {name}: {e}"))?;
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    Ok(format!("Downloaded {}", names.join(", ")))
}

#[cfg(target_arch = "wasm32")]
fn download(name: &str, bytes: &[u8]) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let js = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(js)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js)?;
    let a: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(js)?.dyn_into().map_err(|_| "not a link")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url).map_err(js)
}

/// An egui image as PNG bytes.
pub fn png_bytes(image: &egui::ColorImage) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
        writer.write_image_data(&bytes).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
