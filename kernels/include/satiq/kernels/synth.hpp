#pragma once
/// Synthetic test images with known truth: slanted edges, tri-bar resolution targets and a
/// procedural airfield scene. Pure rendering into float images (DN units); no GDAL, no files.
///
/// Pixel convention (GDAL's): pixel (i, j) covers the square [i, i+1) x [j, j+1) in continuous
/// pixel coordinates (x right, y down); its centre is (i + 0.5, j + 0.5).
///
/// Determinism: every pixel is a pure function of its coordinates and the parameters (noise comes
/// from the counter-based generator of random.hpp keyed on (seed, x, y)), and all sums run in a
/// fixed order, so the output is bit-identical for any thread count. Work is split over rows with
/// parallel_rows.
///
/// Halo: none. These are generators (they read no input image); render_scene's blur margin is
/// internal (the scene is procedural and extends beyond the image, so borders need no padding).
///
/// Errors: every function validates its parameter struct once at entry and throws satiq::Error
/// naming the operation and the parameter.
#include <array>
#include <cstdint>
#include <string>
#include <vector>
#include "satiq/kernels/optics.hpp"

#include "satiq/kernels/image.hpp"

namespace satiq {

// ---------------------------------------------------------------------------------------------
// Analytic edge model: a Gaussian PSF of sigma_px sampled by a pixel aperture.
// ---------------------------------------------------------------------------------------------

// normal_cdf, box_gaussian_esf and box_gaussian_mtf: satiq/kernels/optics.hpp.

/// Exact mean over the unit square [0,1]^2 (coordinates u, v) of Phi((p u + q v + c) / sigma):
/// the fraction of a square pixel on the bright side of a Gaussian-blurred step whose signed
/// distance at the pixel corner (u, v) = (0, 0) is c (pixels) and whose unit normal is (p, q).
/// Closed form from the double antiderivative H(t) = ((t^2 + 1) Phi(t) + t phi(t)) / 2 of Phi,
/// H'' = Phi: mean = sigma^2 [H((p+q+c)/s) - H((q+c)/s) - H((p+c)/s) + H(c/s)] / (p q); when
/// min(|p|, |q|) < 1e-7 the smaller direction is integrated by the midpoint rule instead (error
/// below 2e-8). sigma_px = 0 is the exact area of the half-plane inside the square. Absolute
/// error below 1e-7 for sigma_px in [0, 20] (near-cancellation is avoided by evaluating the
/// dark fraction on the bright side).
double square_pixel_step_fraction(double c_px, double p, double q, double sigma_px);

/// Edge truth numbers of one edge model.
struct EdgeTruth {
    double rer = 0;               ///< ESF(+0.5) - ESF(-0.5)
    double esf_minus_0p5 = 0;     ///< ESF(-0.5 px)
    double esf_plus_0p5 = 0;      ///< ESF(+0.5 px)
    double mtf50_cyc_per_px = 0;  ///< frequency where the MTF falls to 0.5
    double mtf_nyquist = 0;       ///< MTF at 0.5 cycles/pixel
    double overshoot_h =
        0;               ///< H of Leachtenauer et al., Appl. Opt. 36(32), 1997: max ESF over +1..+3 px in 0.25 px steps
                         ///< (= ESF(+1.25) here since the ESF is monotonic)
    double fwhm_px = 0;  ///< full width at half maximum of the LSF
};

/// Truth of the 1-D model (Gaussian CDF convolved with a unit box, MTF
/// exp(-2 pi^2 sigma^2 f^2) |sinc f|). Throws when sigma_px is outside [0, 20].
EdgeTruth box_gaussian_edge_truth(double sigma_px);

/// Truth of what render_edge really draws: a Gaussian-blurred step averaged over a square pixel,
/// seen along the edge normal at angle_deg. The square's projection on the normal is a box of
/// |cos a| convolved with a box of |sin a|, so the MTF is
/// exp(-2 pi^2 sigma^2 f^2) |sinc(f cos a) sinc(f sin a)| and the ESF is
/// square_pixel_step_fraction centred on the edge. Equals box_gaussian_edge_truth at a = 0.
EdgeTruth square_pixel_edge_truth(double sigma_px, double angle_deg);

// ---------------------------------------------------------------------------------------------
// Noise and quantization.
// ---------------------------------------------------------------------------------------------

/// Adds zero-mean Gaussian noise of sigma_dn to every pixel; the value at global pixel
/// (x0 + i, y0 + j) depends only on (seed, x0 + i, y0 + j) (random.hpp, stream 7, band 0).
/// sigma_dn = 0 leaves the image untouched. Throws when sigma_dn < 0 or not finite.
void add_gaussian_noise(ImageView<float> image, double sigma_dn, std::uint64_t seed, std::int64_t x0 = 0,
                        std::int64_t y0 = 0);

/// Rounds every pixel to the nearest integer (halves away from zero) and clamps to
/// [min_dn, max_dn], so the values written to an integer raster are exactly these.
void quantize_dn(ImageView<float> image, double min_dn, double max_dn);

// ---------------------------------------------------------------------------------------------
// Slanted edge.
// ---------------------------------------------------------------------------------------------

/// A straight edge between two plateaus, blurred by a Gaussian and integrated over square pixels.
///
/// Geometry: the edge's unit normal n = (cos a, sin a), a = angle_deg, points to the bright side;
/// a is measured from the +x (column) axis towards +y (down the rows), so a = 0 is a vertical
/// edge (dark left, bright right) and a small a tilts it a few degrees off vertical (the ISO 12233
/// slanted-edge case); a = 90 is a horizontal edge, bright below. Signed distance of a point:
/// d = (x - edge_x_px) cos a + (y - edge_y_px) sin a.
/// Pixel value = dark_dn + (bright_dn - dark_dn) * mean over the pixel square of Phi(d / sigma_px)
/// (exact, square_pixel_step_fraction), then optional noise. No halo (analytic per pixel).
struct EdgeTargetParams {
    double angle_deg = 5.0;
    double edge_x_px = 0.0;  ///< a point on the edge line (continuous pixel coordinates)
    double edge_y_px = 0.0;
    double dark_dn = 0.0;
    double bright_dn = 1.0;
    double sigma_px = 0.5;  ///< Gaussian blur in pixels, [0, 20]
    double noise_sigma_dn = 0.0;
    std::uint64_t seed = 0;
};

/// Renders into `out` (any size). Throws satiq::Error on invalid parameters (non-finite values,
/// sigma_px outside [0, 20], negative noise).
void render_edge(const EdgeTargetParams& params, ImageView<float> out);
Image render_edge(const EdgeTargetParams& params, std::int64_t width_px, std::int64_t height_px);

/// Naive reference: the same pixel value by 2-D Gauss-Legendre quadrature on `subdivisions`^2
/// sub-squares of the pixel (16 nodes each way per sub-square). For tests.
double edge_pixel_reference(const EdgeTargetParams& params, std::int64_t x, std::int64_t y, int subdivisions);

// ---------------------------------------------------------------------------------------------
// Tri-bar resolution target (USAF-1951-like).
// ---------------------------------------------------------------------------------------------

/// A rectangle [x0, x1) x [y0, y1) in continuous pixel coordinates.
struct RectPx {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

/// One element: three bars of width w and length 5 w separated by gaps of w, in one orientation.
struct TribarElement {
    int index = 0;  ///< 0 = widest bars
    double bar_width_px = 0;
    double bar_length_px = 0;
    bool bars_vertical = true;  ///< true: bars run down the columns, modulation along x
    RectPx bounds;              ///< 5 w x 5 w square holding the three bars
    std::array<RectPx, 3> bars;
};

/// Elements k = 0..element_count-1 have bar width largest_bar_px * step^-k (step 2^(1/6), one
/// USAF-1951 element), each drawn twice: vertical bars, then horizontal bars to their right.
/// Pixel value = background_dn + (bar_dn - background_dn) * (box-integrated Gaussian-blurred bar
/// indicator), exact and separable, then optional noise.
struct TribarParams {
    double largest_bar_px = 8.0;
    int element_count = 12;
    double step = 1.122462048309373;  ///< 2^(1/6)
    double background_dn = 0.0;
    double bar_dn = 1.0;
    double sigma_px = 0.5;  ///< [0, 20]
    double noise_sigma_dn = 0.0;
    std::uint64_t seed = 0;
};

/// Places the elements in rows (left to right, top to bottom) with margins; throws satiq::Error
/// ("tribar: ... increase --size") when they do not fit in width_px x height_px.
std::vector<TribarElement> tribar_layout(const TribarParams& params, std::int64_t width_px, std::int64_t height_px);

/// Renders the layout into `out`.
void render_tribar(const TribarParams& params, const std::vector<TribarElement>& layout, ImageView<float> out);

// ---------------------------------------------------------------------------------------------
// Procedural airfield scene.
// ---------------------------------------------------------------------------------------------

/// A point in scene metres: x east (right), y south (down), origin at the top-left corner of
/// pixel (0, 0). Pixel coordinates are scene metres / gsd_m.
struct Vec2 {
    double x = 0;
    double y = 0;
};

/// Something on the ground, for the truth file.
struct SceneObject {
    std::string id;        ///< e.g. "aircraft_1"
    std::string category;  ///< aircraft, tank, truck, tel, van, hangar, building, runway, ...
    std::string model;     ///< e.g. "MiG-29", "Il-76", "T-72", "Hwasong-17 TEL"
    Vec2 centre_m;
    double length_m = 0;  ///< along the heading
    double width_m = 0;   ///< across (wing span for aircraft)
    double height_m = 0;
    double heading_deg = 0;    ///< compass bearing of the nose / long axis, clockwise from grid north
    std::string note;          ///< detail worth checking (e.g. "11 axles, 22 wheels visible")
    int detail_count = 0;      ///< countable detail (axles of a TEL, engines of a transport), 0 when none
    double detail_size_m = 0;  ///< size of that detail (wheel diameter), 0 when none
    std::string detail_name;   ///< what detail_count counts: "axles", "engines"; empty when none
};

enum class PaintKind { Fill, Cylinder };
enum class SceneLayer { Surface, Shadow, Object };

/// One convex or concave simple polygon with its paint. Cylinder shades a cylinder (arched roof,
/// missile tube, fuselage) whose axis runs along `axis_deg` through `axis_point_m`, of radius
/// `radius_m`, lit by the sun.
struct ScenePolygon {
    std::vector<Vec2> points_m;
    SceneLayer layer = SceneLayer::Surface;
    PaintKind paint = PaintKind::Fill;
    float reflectance_dn = 0;
    float texture_amplitude = 0;   ///< relative amplitude of value noise on this surface
    double texture_scale_m = 1.0;  ///< feature size of that noise
    Vec2 axis_point_m;
    double axis_deg = 0;
    double radius_m = 1;
    // bounding box, filled by finalize
    double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
};

struct AirfieldParams {
    double gsd_m = 0.25;  ///< (0, 10]
    std::int64_t width_px = 2048;
    std::int64_t height_px = 2048;
    double sigma_px = 0.6;            ///< optical blur at the output pixel, [0, 5]
    int supersample = 4;              ///< scene samples per output pixel along each axis, [1, 8]
    double sun_azimuth_deg = 145.0;   ///< clockwise from grid north
    double sun_elevation_deg = 40.0;  ///< (5, 90]
    double noise_sigma_dn = 6.0;
    double shadow_factor = 0.38;  ///< shadowed / sunlit radiance (skylight only)
    std::uint64_t seed = 1;
};

struct Scene {
    double width_m = 0;
    double height_m = 0;
    Vec2 shadow_per_height;              ///< ground displacement of a shadow per metre of height
    std::vector<ScenePolygon> polygons;  ///< painted in order within each layer
    std::vector<SceneObject> objects;
};

/// Builds the airfield layout (a fixed design 512 m x 512 m; the image shows the part inside
/// width_px x height_px at gsd_m: coarser GSDs see more ground around it). Objects whose centre
/// lies outside the image are dropped from `objects`.
Scene build_airfield_scene(const AirfieldParams& params);

/// Renders the scene: radiance point-sampled `supersample`^2 times per pixel, then one separable
/// exact kernel (Gaussian sigma_px convolved with the output pixel box) reduces to output pixels,
/// then noise. Rows are processed in strips; results do not depend on the strip split.
void render_scene(const Scene& scene, const AirfieldParams& params, ImageView<float> out);

/// Radiance of the scene at one point (DN before blur and noise). For tests.
float scene_radiance(const Scene& scene, const AirfieldParams& params, Vec2 point_m);

}  // namespace satiq
