//! Where things are on the canvas: the view transform, node and pin
//! rectangles, wires as sampled curves, and hit testing. No drawing here.

use eframe::egui::{Pos2, Rect, Vec2, emath::TSTransform, pos2, vec2};

use crate::model::{Position, Scenario};

/// The smallest and largest zoom: small enough for Fit to show a node
/// dragged tens of thousands of units away, large enough for one node to
/// fill the screen.
pub const ZOOM_RANGE: std::ops::RangeInclusive<f32> = 0.02..=3.0;

/// How much one wheel notch zooms: 10%, gentle enough to aim with.
pub const ZOOM_PER_NOTCH: f32 = 1.1;

/// A node's size in canvas units before it has been measured.
pub const DEFAULT_NODE: Vec2 =
    Vec2::new(crate::model::layout::NODE.0, crate::model::layout::NODE.1);

/// Room left around a node when placing a new one.
const PLACE_MARGIN: f32 = 24.0;

/// How far from a wire (in screen points) a click still hits it.
const WIRE_HIT: f32 = 6.0;

/// Points per wire curve, for drawing and hit testing.
const WIRE_SAMPLES: usize = 24;

/// The canvas-to-screen transform, with zoom about a point.
#[derive(Clone, Copy, Debug)]
pub struct View(pub TSTransform);

impl View {
    /// The zoom factor: screen points per canvas unit.
    pub fn zoom(self) -> f32 {
        self.0.scaling
    }

    /// A canvas point on screen.
    pub fn to_screen(self, p: Pos2) -> Pos2 {
        self.0 * p
    }

    /// A screen point on the canvas.
    pub fn to_canvas(self, p: Pos2) -> Pos2 {
        self.0.inverse() * p
    }

    /// Zooms by `factor` keeping the canvas point under `pointer` in place.
    pub fn zoom_about(&mut self, pointer: Pos2, factor: f32) {
        let old = self.zoom();
        let new = (old * factor).clamp(*ZOOM_RANGE.start(), *ZOOM_RANGE.end());
        if (new - old).abs() < f32::EPSILON {
            return;
        }
        let anchor = self.to_canvas(pointer);
        self.0 = TSTransform::new(pointer.to_vec2() - anchor.to_vec2() * new, new);
    }

    /// The view that shows `bounds` (canvas) centred in `screen`, never
    /// zoomed in beyond 100%, so texts are never larger than the app's.
    pub fn fitting(bounds: Rect, screen: Rect) -> Self {
        let view = bounds.expand(40.0);
        let zoom = (screen.size() / view.size())
            .min_elem()
            .clamp(*ZOOM_RANGE.start(), 1.0);
        Self(TSTransform::new(
            screen.center().to_vec2() - view.center().to_vec2() * zoom,
            zoom,
        ))
    }
}

/// A node's rectangle in canvas units.
pub fn node_rect(position: Position, size: Vec2) -> Rect {
    Rect::from_min_size(pos2(position.x, position.y), size)
}

/// Where a node's pins are, given its screen rectangle and header height:
/// calls come in on the left, go out on the right.
pub fn pins(rect: Rect, header: f32) -> (Pos2, Pos2) {
    let y = rect.top() + header / 2.0;
    (pos2(rect.left(), y), pos2(rect.right(), y))
}

/// A pin's radius on screen at `zoom`.
pub fn pin_radius(zoom: f32) -> f32 {
    (6.0 * zoom).clamp(3.5, 9.0)
}

/// The wire from an output pin to an input pin, as points along a curve
/// that leaves and enters horizontally.
pub fn wire_points(from: Pos2, to: Pos2, zoom: f32) -> Vec<Pos2> {
    let bend = ((to.x - from.x).abs() * 0.5).max(50.0 * zoom);
    let (c1, c2) = (from + vec2(bend, 0.0), to - vec2(bend, 0.0));
    (0..=WIRE_SAMPLES)
        .map(|i| {
            let t = i as f32 / WIRE_SAMPLES as f32;
            let u = 1.0 - t;
            let p = from.to_vec2() * (u * u * u)
                + c1.to_vec2() * (3.0 * u * u * t)
                + c2.to_vec2() * (3.0 * u * t * t)
                + to.to_vec2() * (t * t * t);
            p.to_pos2()
        })
        .collect()
}

/// The point a share `t` of the way along a polyline, by length.
pub fn along(points: &[Pos2], t: f32) -> Pos2 {
    let total: f32 = points.windows(2).map(|w| w[0].distance(w[1])).sum();
    let mut left = total * t.clamp(0.0, 1.0);
    for w in points.windows(2) {
        let d = w[0].distance(w[1]);
        if left <= d && d > 0.0 {
            return w[0] + (w[1] - w[0]) * (left / d);
        }
        left -= d;
    }
    points.last().copied().unwrap_or(Pos2::ZERO)
}

/// The distance from `p` to a polyline.
pub fn distance_to(points: &[Pos2], p: Pos2) -> f32 {
    points
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let ab = b - a;
            let len2 = ab.length_sq();
            let t = if len2 > 0.0 {
                ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            p.distance(a + ab * t)
        })
        .fold(f32::INFINITY, f32::min)
}

/// Whether `p` is on the wire `points`.
pub fn hits_wire(points: &[Pos2], p: Pos2) -> bool {
    distance_to(points, p) <= WIRE_HIT
}

/// A place for a new node of `size` near `near` (its centre, canvas units)
/// where it overlaps no node of `scenario`: the nearest free spot on a
/// widening square spiral.
pub fn free_spot(
    scenario: &Scenario,
    size_of: impl Fn(&str) -> Vec2,
    size: Vec2,
    near: Position,
) -> Position {
    let taken: Vec<Rect> = scenario
        .services
        .iter()
        .map(|s| node_rect(s.position, size_of(&s.name)).expand(PLACE_MARGIN))
        .collect();
    let start = pos2(near.x, near.y) - size / 2.0;
    let step = 30.0;
    let fits = |at: Pos2| {
        let rect = Rect::from_min_size(at, size);
        !taken.iter().any(|t| t.intersects(rect))
    };
    for ring in 0..200_i32 {
        for dx in -ring..=ring {
            for dy in -ring..=ring {
                if dx.abs() != ring && dy.abs() != ring {
                    continue;
                }
                #[expect(clippy::cast_precision_loss, reason = "small ring indices")]
                let at = start + vec2(dx as f32, dy as f32) * step;
                if fits(at) {
                    return Position { x: at.x, y: at.y };
                }
            }
        }
    }
    // Everything near is taken: below all nodes.
    let bottom = taken.iter().map(Rect::bottom).fold(start.y, f32::max);
    Position {
        x: start.x,
        y: bottom + PLACE_MARGIN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_point_under_the_pointer() {
        let mut view = View(TSTransform::new(vec2(30.0, -20.0), 0.8));
        let pointer = pos2(400.0, 300.0);
        let before = view.to_canvas(pointer);
        view.zoom_about(pointer, ZOOM_PER_NOTCH);
        assert!((view.zoom() - 0.88).abs() < 1e-6);
        assert!(view.to_canvas(pointer).distance(before) < 1e-3);
        for _ in 0..100 {
            view.zoom_about(pointer, 2.0);
        }
        assert!((view.zoom() - *ZOOM_RANGE.end()).abs() < f32::EPSILON);
    }

    #[test]
    fn a_point_on_the_curve_hits_and_one_beside_it_does_not() {
        let points = wire_points(pos2(0.0, 0.0), pos2(300.0, 100.0), 1.0);
        assert_eq!(points.first(), Some(&pos2(0.0, 0.0)));
        assert_eq!(points.last(), Some(&pos2(300.0, 100.0)));
        let middle = along(&points, 0.5);
        // The curve is symmetric about its middle.
        assert!(middle.distance(pos2(150.0, 50.0)) < 1.0, "{middle:?}");
        assert!(hits_wire(&points, middle + vec2(0.0, 3.0)));
        assert!(!hits_wire(&points, middle + vec2(0.0, 30.0)));
    }
}
