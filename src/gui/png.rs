//! PNG export of a region of the window: the plot a user asked to save.

use std::path::Path;

use eframe::egui::{ColorImage, Rect};

/// Crops `image` (the whole window, in pixels) to `rect` (in points, at
/// `pixels_per_point`) and writes it to `path` as PNG, atomically.
pub fn write_region(
    image: &ColorImage,
    rect: Rect,
    pixels_per_point: f32,
    path: &Path,
) -> Result<(), String> {
    let [width, height] = image.size;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to the image"
    )]
    let px = |v: f32, limit: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(limit);
    let (x0, y0) = (px(rect.min.x, width), px(rect.min.y, height));
    let (x1, y1) = (px(rect.max.x, width), px(rect.max.y, height));
    if x1 <= x0 || y1 <= y0 {
        return Err("the plot has no visible area".into());
    }
    let mut rgba = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for y in y0..y1 {
        for pixel in &image.pixels[y * width + x0..y * width + x1] {
            rgba.extend_from_slice(&pixel.to_array());
        }
    }
    let bytes = encode(&rgba, x1 - x0, y1 - y0).map_err(|e| e.to_string())?;
    crate::model::file::write_atomically(path, &bytes)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// RGBA8 pixels, row by row, as a PNG file.
pub fn encode(rgba: &[u8], width: usize, height: usize) -> Result<Vec<u8>, png::EncodingError> {
    let too_big = || png::EncodingError::LimitsExceeded;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(
        &mut out,
        u32::try_from(width).map_err(|_| too_big())?,
        u32::try_from(height).map_err(|_| too_big())?,
    );
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgba)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use eframe::egui::{Color32, ColorImage, Rect, pos2};

    #[test]
    fn a_cropped_region_round_trips_through_png() {
        // A 40 × 30 image, red left of x = 20 and blue right of it; crop the
        // 10 × 10 square at (15, 5) at two pixels per point (5 × 5 points).
        let mut image = ColorImage::filled([40, 30], Color32::RED);
        for y in 0..30 {
            for x in 20..40 {
                image.pixels[y * 40 + x] = Color32::BLUE;
            }
        }
        let path = std::env::temp_dir().join(format!("archbench-png-{}.png", std::process::id()));
        let rect = Rect::from_min_max(pos2(7.5, 2.5), pos2(12.5, 7.5));
        super::write_region(&image, rect, 2.0, &path).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (10, 10));
        let at = |x: usize, y: usize| &pixels[(y * 10 + x) * 4..(y * 10 + x) * 4 + 4];
        assert_eq!(at(0, 0), [255, 0, 0, 255]);
        assert_eq!(at(4, 9), [255, 0, 0, 255]);
        assert_eq!(at(5, 0), [0, 0, 255, 255]);
        assert_eq!(at(9, 9), [0, 0, 255, 255]);
        let _ = std::fs::remove_file(path);
        // A region off the image is refused, not a panic.
        assert!(
            super::write_region(
                &image,
                Rect::from_min_max(pos2(100.0, 100.0), pos2(120.0, 120.0)),
                1.0,
                std::path::Path::new("/nonexistent/x.png")
            )
            .is_err()
        );
    }
}
