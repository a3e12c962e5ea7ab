//! The 8×8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak,
//! CC BY 4.0; the credit is in crates/core/data/digits/README.md). The gzipped CSV is compiled into the
//! binary, so the data set needs no file system and no network (the web app has neither).

use std::io::Read;

use super::{Dataset, InputKind};

/// 1,797 rows: 64 pixel values 0–16 (row-major 8×8), then the label 0–9.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../../data/digits/digits.csv.gz");
const SIDE: usize = 8;
const CLASSES: usize = 10;
/// Pixels are stored as 0–16; the model sees them on [0, 1].
const PIXEL_MAX: f32 = 16.0;

/// The digits data set: 1,797 images of 8×8 pixels in [0, 1], 10 classes, no mixing, no boundary flags.
pub fn digits() -> Dataset {
    // The embedded file is part of the build, not user input: a failure here is a broken build, and the test
    // below catches it.
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ).read_to_string(&mut text).expect("the embedded digits file unpacks");
    let dim = SIDE * SIDE;
    let mut x = Vec::with_capacity(1797 * dim);
    let mut labels = Vec::with_capacity(1797);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let values: Vec<u8> =
            line.split(',').map(|v| v.trim().parse().expect("the embedded digits file holds integers")).collect();
        assert_eq!(values.len(), dim + 1, "each digits row has 64 pixels and a label");
        x.extend(values[..dim].iter().map(|&v| v as f32 / PIXEL_MAX));
        labels.push(values[dim] as usize);
    }
    let n = labels.len();
    Dataset {
        name: "digits".to_string(),
        kind: InputKind::Image { width: SIDE, height: SIDE },
        dim,
        x,
        labels,
        classes: CLASSES,
        has_labels: true,
        mixed: vec![false; n],
        boundary: vec![false; n],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_load_1797_images_of_64_pixels_in_10_classes() {
        let ds = digits();
        assert_eq!((ds.len(), ds.dim, ds.x.len(), ds.classes), (1797, 64, 1797 * 64, 10));
        assert_eq!(ds.kind, InputKind::Image { width: 8, height: 8 });
        assert!(ds.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert!(ds.x.contains(&1.0), "the brightest pixel (16) maps to 1");
        assert!(ds.class_counts().iter().all(|&k| k > 150), "{:?}", ds.class_counts());
        assert!(ds.has_labels && !ds.mixed.contains(&true) && !ds.boundary.contains(&true));
    }

    #[test]
    fn first_digit_matches_the_file() {
        // The file's first row: a 0, whose top row of pixels is 0,0,5,13,9,1,0,0.
        let ds = digits();
        assert_eq!(ds.labels[0], 0);
        let top: Vec<f32> = [0., 0., 5., 13., 9., 1., 0., 0.].iter().map(|v| v / 16.0).collect();
        assert_eq!(&ds.sample(0)[..8], &top[..]);
        assert_eq!(ds.labels[1], 1);
    }
}
