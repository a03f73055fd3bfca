// The procedural airfield scene: layout at real dimensions (the published dimensions of each type), scanline polygon
// rasterization, value-noise textures, sun shadows, supersampled rendering with an exact
// blur-and-pixel kernel.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "satiq/kernels/error.hpp"
#include "satiq/kernels/parallel.hpp"
#include "satiq/kernels/random.hpp"
#include "satiq/kernels/synth.hpp"

namespace satiq {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

// ----- value noise (lattice values from a counter hash, quintic fade; Perlin 2002's fade) -----

double lattice(std::uint64_t key, std::int64_t ix, std::int64_t iy) {
    std::uint64_t h = rng::mix64(key + static_cast<std::uint64_t>(ix) * 0x9E3779B97F4A7C15ull);
    h = rng::mix64(h + static_cast<std::uint64_t>(iy) * 0xD1B54A32D192ED03ull);
    return rng::uniform01(h) * 2.0 - 1.0;
}

double fade(double t) {
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0);
}

// out[k] += amp * noise(x_k / scale, y / scale) for x_k = (kx0 + k + 0.5) dx: value noise (lattice
// values from a counter hash, bilinear with the quintic fade), caching the lattice column pair
// along the row.
void add_noise_row(float* out, std::int64_t n, std::int64_t kx0, double dx, double y, double scale, double amp,
                   std::uint64_t key) {
    const double ty = y / scale;
    const double fy = std::floor(ty);
    const auto iy = static_cast<std::int64_t>(fy);
    const double sy = fade(ty - fy);
    std::int64_t cached = INT64_MIN;
    double l0 = 0, l1 = 0;
    auto column = [&](std::int64_t ix) {
        const double a = lattice(key, ix, iy);
        return a + sy * (lattice(key, ix, iy + 1) - a);
    };
    for (std::int64_t k = 0; k < n; ++k) {
        const double tx = (static_cast<double>(kx0 + k) + 0.5) * dx / scale;
        const double fx = std::floor(tx);
        const auto ix = static_cast<std::int64_t>(fx);
        if (ix != cached) {
            if (ix == cached + 1) {
                l0 = l1;
            } else {
                l0 = column(ix);
            }
            l1 = column(ix + 1);
            cached = ix;
        }
        out[k] += static_cast<float>(amp * (l0 + fade(tx - fx) * (l1 - l0)));
    }
}

constexpr std::uint64_t kGroundKey = 0x5EED0001;
struct Octave {
    double scale_m;
    double amplitude;
};
// Grass and soil: large patches, mid-scale variation, fine grain (relative amplitudes).
constexpr Octave kGround[] = {{70.0, 0.16}, {17.0, 0.08}, {4.0, 0.05}, {1.1, 0.04}};
constexpr float kGroundDn = 520.0f;

std::uint64_t octave_key(std::uint64_t base, int i) {
    return rng::mix64(base + static_cast<std::uint64_t>(i) * 7919u);
}

// ----- geometry -----

struct Frame {
    Vec2 c;
    double heading_deg = 0;
    [[nodiscard]] Vec2 fwd() const { return {std::sin(heading_deg * kDeg), -std::cos(heading_deg * kDeg)}; }
    [[nodiscard]] Vec2 right() const { return {std::cos(heading_deg * kDeg), std::sin(heading_deg * kDeg)}; }
    [[nodiscard]] Vec2 at(double u, double v) const {
        const Vec2 f = fwd(), r = right();
        return {c.x + u * f.x + v * r.x, c.y + u * f.y + v * r.y};
    }
};

using Local = std::vector<Vec2>;  // (u forward, v right) points in a Frame

Local rect(double u0, double u1, double v0, double v1) {
    return {{u0, v0}, {u1, v0}, {u1, v1}, {u0, v1}};
}

Local mirror_v(const Local& l) {
    Local m;
    for (auto it = l.rbegin(); it != l.rend(); ++it)
        m.push_back({it->x, -it->y});
    return m;
}

Local octagon(double uc, double vc, double r) {
    Local l;
    for (int i = 0; i < 8; ++i) {
        const double a = (i + 0.5) * std::numbers::pi / 4.0;
        l.push_back({uc + r * std::cos(a), vc + r * std::sin(a)});
    }
    return l;
}

double cross(Vec2 o, Vec2 a, Vec2 b) {
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Andrew's monotone chain convex hull.
std::vector<Vec2> convex_hull(std::vector<Vec2> p) {
    std::sort(p.begin(), p.end(), [](Vec2 a, Vec2 b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
    if (p.size() < 3) return p;
    std::vector<Vec2> h(2 * p.size());
    std::size_t k = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0)
            --k;
        h[k++] = p[i];
    }
    for (std::size_t i = p.size() - 1, t = k + 1; i > 0; --i) {
        while (k >= t && cross(h[k - 2], h[k - 1], p[i - 1]) <= 0)
            --k;
        h[k++] = p[i - 1];
    }
    h.resize(k - 1);
    return h;
}

// Sun unit vector (x east, y south, z up) for the cylinder shading.
struct Sun {
    double lx = 0, ly = 0, lz = 1;
};

class Builder {
public:
    Builder(Scene& scene, const AirfieldParams& p) : m_scene(scene) {
        const double az = p.sun_azimuth_deg * kDeg, el = p.sun_elevation_deg * kDeg;
        // A point at height h casts its shadow h / tan(el) away from the sun.
        const double k = 1.0 / std::tan(el);
        m_scene.shadow_per_height = {-std::sin(az) * k, std::cos(az) * k};
    }

    void surface(const std::vector<Vec2>& pts, float dn, float tex_amp = 0.0f, double tex_scale_m = 1.0) {
        ScenePolygon poly;
        poly.points_m = pts;
        poly.layer = SceneLayer::Surface;
        poly.reflectance_dn = dn;
        poly.texture_amplitude = tex_amp;
        poly.texture_scale_m = tex_scale_m;
        m_scene.polygons.push_back(std::move(poly));
    }
    void surface(const Frame& f, const Local& l, float dn, float tex_amp = 0.0f, double tex_scale_m = 1.0) {
        surface(world(f, l), dn, tex_amp, tex_scale_m);
    }

    /// A part of an object: a convex prism from z0_m to z1_m above ground, drawn on top of what
    /// came before, with its shadow (the hull of the part displaced by z0 and by z1).
    void part(const Frame& f, const Local& l, double z0_m, double z1_m, float dn, float tex_amp = 0.0f) {
        const auto pts = world(f, l);
        add_shadow(pts, z0_m, z1_m);
        ScenePolygon poly;
        poly.points_m = pts;
        poly.layer = SceneLayer::Object;
        poly.reflectance_dn = dn;
        poly.texture_amplitude = tex_amp;
        poly.texture_scale_m = 0.7;
        m_scene.polygons.push_back(std::move(poly));
    }

    /// A part shaded as a cylinder lying along the frame's heading (offset by v_axis), radius r.
    void cylinder_part(const Frame& f, const Local& l, double v_axis, double radius_m, double z0_m, double z1_m,
                       float dn) {
        const auto pts = world(f, l);
        add_shadow(pts, z0_m, z1_m);
        ScenePolygon poly;
        poly.points_m = pts;
        poly.layer = SceneLayer::Object;
        poly.paint = PaintKind::Cylinder;
        poly.reflectance_dn = dn;
        poly.axis_point_m = f.at(0.0, v_axis);
        poly.axis_deg = f.heading_deg;
        poly.radius_m = radius_m;
        m_scene.polygons.push_back(std::move(poly));
    }

    void object(SceneObject o) { m_objects.push_back(std::move(o)); }
    std::vector<SceneObject>& objects() { return m_objects; }

    static std::vector<Vec2> world(const Frame& f, const Local& l) {
        std::vector<Vec2> w;
        w.reserve(l.size());
        for (const auto& p : l)
            w.push_back(f.at(p.x, p.y));
        return w;
    }

private:
    void add_shadow(const std::vector<Vec2>& pts, double z0, double z1) {
        std::vector<Vec2> all;
        const Vec2 s = m_scene.shadow_per_height;
        for (const auto& p : pts) {
            all.push_back({p.x + s.x * z0, p.y + s.y * z0});
            all.push_back({p.x + s.x * z1, p.y + s.y * z1});
        }
        ScenePolygon poly;
        poly.points_m = convex_hull(std::move(all));
        poly.layer = SceneLayer::Shadow;
        m_scene.polygons.push_back(std::move(poly));
    }

    Scene& m_scene;
    std::vector<SceneObject> m_objects;
};

// ----- models at their real dimensions (published dimensions and public references) -----

constexpr float kPaintWhite = 1850.0f;
constexpr float kPaintYellow = 1480.0f;

// MiG-29: length 17.32 m, span 11.36 m, height 4.73 m.
void add_mig29(Builder& b, const Frame& f, const std::string& id) {
    const float body = 820.0f;  // grey camouflage
    b.part(f, {{8.66, 0.0}, {7.2, 0.45}, {4.5, 0.75}, {4.5, -0.75}, {7.2, -0.45}}, 1.2, 2.6, body);
    b.part(f,
           {{3.0, 0.8}, {1.0, 2.0}, {-8.3, 2.0}, {-8.66, 1.0}, {-8.66, -1.0}, {-8.3, -2.0}, {1.0, -2.0}, {3.0, -0.8}},
           0.6, 2.2, body);
    b.cylinder_part(f, rect(1.2, 4.6, -0.8, 0.8), 0.0, 0.8, 1.0, 2.9, body);
    const Local wing = {{0.5, 2.0}, {-3.4, 5.68}, {-4.9, 5.68}, {-5.5, 2.0}};
    b.part(f, wing, 1.6, 1.9, body);
    b.part(f, mirror_v(wing), 1.6, 1.9, body);
    const Local stab = {{-5.6, 1.9}, {-7.7, 3.9}, {-8.5, 3.9}, {-8.3, 1.9}};
    b.part(f, stab, 1.7, 2.0, body);
    b.part(f, mirror_v(stab), 1.7, 2.0, body);
    b.part(f, rect(-8.2, -4.6, 1.3, 1.7), 1.8, 4.73, 760.0f);
    b.part(f, rect(-8.2, -4.6, -1.7, -1.3), 1.8, 4.73, 760.0f);
    b.part(f, {{4.2, 0.0}, {3.6, 0.42}, {2.3, 0.42}, {2.0, 0.0}, {2.3, -0.42}, {3.6, -0.42}}, 2.5, 2.9,
           330.0f);  // canopy
    b.object({id, "aircraft", "MiG-29", f.c, 17.32, 11.36, 4.73, f.heading_deg, "fighter: twin fins, swept wings", 0, 0,
              ""});
}

// Il-76: length 46.59 m, span 50.50 m, height 14.76 m; high wing, four engines, T-tail.
void add_il76(Builder& b, const Frame& f, const std::string& id) {
    const float body = 1420.0f;
    b.part(f, {{23.295, 0.0}, {22.3, 1.4}, {20.0, 2.4}, {20.0, -2.4}, {22.3, -1.4}}, 1.5, 6.3, body);
    b.cylinder_part(f, rect(-13.0, 20.0, -2.4, 2.4), 0.0, 2.4, 1.2, 6.3, body);
    b.part(f, {{-13.0, 2.4}, {-21.8, 0.9}, {-21.8, -0.9}, {-13.0, -2.4}}, 3.0, 6.5, body);
    for (const double v : {7.5, 13.5, -7.5, -13.5}) {
        const double le = 3.5 - (std::abs(v) - 2.4) * (10.8 / 22.85);  // leading edge at this span station
        b.part(f, rect(le - 2.5, le + 3.8, v - 0.85, v + 0.85), 3.4, 5.4, 900.0f);
    }
    const Local wing = {{3.5, 2.4}, {-7.3, 25.25}, {-10.8, 25.25}, {-5.0, 2.4}};
    b.part(f, wing, 5.6, 6.4, body);
    b.part(f, mirror_v(wing), 5.6, 6.4, body);
    b.part(f, rect(-23.0, -14.0, -0.35, 0.35), 5.0, 14.76, 1350.0f);
    const Local stab = {{-18.5, 0.35}, {-21.5, 8.7}, {-23.295, 8.7}, {-22.4, 0.35}};
    b.part(f, stab, 14.0, 14.76, body);
    b.part(f, mirror_v(stab), 14.0, 14.76, body);
    b.object({id, "aircraft", "Il-76", f.c, 46.59, 50.50, 14.76, f.heading_deg,
              "large transport: high swept wing, four engines, T-tail", 4, 0, "engines"});
}

// T-72: hull 6.95 m x 3.59 m (9.53 m with the gun forward), height 2.23 m.
void add_t72(Builder& b, const Frame& f, const std::string& id) {
    b.part(f, rect(-3.475, 3.475, -1.795, 1.795), 0.0, 1.6, 360.0f, 0.03f);
    b.part(f, rect(-3.475, 3.3, 1.3, 1.795), 0.0, 1.6, 290.0f);
    b.part(f, rect(-3.475, 3.3, -1.795, -1.3), 0.0, 1.6, 290.0f);
    b.part(f, rect(-3.3, -1.4, -1.1, 1.1), 1.5, 1.6, 320.0f);     // engine deck
    b.part(f, octagon(0.3, 0.0, 1.12), 1.6, 2.23, 410.0f);        // turret
    b.part(f, rect(1.3, 6.055, -0.12, 0.12), 1.9, 2.05, 380.0f);  // 125 mm gun
    b.object({id, "tank", "T-72", f.c, 6.95, 3.59, 2.23, f.heading_deg,
              "tracked; turret and gun, 9.53 m long with the gun forward", 0, 0, ""});
}

// Ural-4320 6x6 truck: 7.37 m x 2.50 m, height 2.87 m; spare tyre behind the cab.
void add_truck(Builder& b, const Frame& f, const std::string& id) {
    b.part(f, rect(2.4, 3.683, -0.95, 0.95), 0.0, 1.9, 440.0f);                        // bonnet
    b.part(f, rect(1.05, 2.4, -1.2, 1.2), 0.0, 2.6, 470.0f);                           // cab
    b.part(f, rect(0.72, 1.0, -0.55, 0.55), 0.5, 2.1, 160.0f);                         // spare tyre
    b.cylinder_part(f, rect(-3.683, 0.7, -1.25, 1.25), 0.0, 1.25, 0.0, 2.87, 560.0f);  // tarpaulin
    b.object({id, "truck", "Ural-4320", f.c, 7.37, 2.50, 2.87, f.heading_deg, "6x6 cargo truck, spare tyre behind cab",
              0, 0, ""});
}

// Hwasong-17 on its 11-axle TEL: about 23 m x 3.5 m, 11 axles (22 wheels visible from above).
void add_tel(Builder& b, const Frame& f, const std::string& id) {
    b.part(f, rect(-11.5, 8.5, -1.5, 1.5), 0.0, 1.8, 380.0f, 0.02f);  // chassis deck
    for (int k = 0; k < 11; ++k) {
        const double u = 9.6 - 2.0 * k;
        b.part(f, rect(u - 0.675, u + 0.675, 1.5, 1.75), 0.0, 1.35, 150.0f);
        b.part(f, rect(u - 0.675, u + 0.675, -1.75, -1.5), 0.0, 1.35, 150.0f);
    }
    b.part(f, rect(8.6, 11.5, -1.6, 1.6), 0.0, 3.0, 420.0f);                      // cab
    b.part(f, rect(10.9, 11.3, -1.3, 1.3), 2.6, 3.0, 200.0f);                     // windscreen
    b.cylinder_part(f, rect(-11.3, 8.3, -1.2, 1.2), 0.0, 1.2, 1.8, 4.2, 480.0f);  // missile canister
    b.object({id, "tel", "Hwasong-17 TEL", f.c, 23.0, 3.5, 4.2, f.heading_deg,
              "11-axle transporter-erector-launcher with missile canister", 11, 1.35, "axles"});
}

// Support van (box-body truck): 9.0 m x 2.5 m, height 3.2 m.
void add_van(Builder& b, const Frame& f, const std::string& id) {
    b.part(f, rect(3.0, 4.5, -1.15, 1.15), 0.0, 2.7, 440.0f);
    b.part(f, rect(-4.5, 2.85, -1.25, 1.25), 0.0, 3.2, 720.0f, 0.02f);
    b.object({id, "van", "support van", f.c, 9.0, 2.5, 3.2, f.heading_deg, "box-body support vehicle", 0, 0, ""});
}

void add_hangar(Builder& b, const Frame& f, double length_m, double span_m, double height_m, const std::string& id) {
    b.cylinder_part(f, rect(-length_m / 2, length_m / 2, -span_m / 2, span_m / 2), 0.0, span_m / 2, 0.0, height_m,
                    1300.0f);
    b.object({id, "hangar", "arched-roof hangar", f.c, length_m, span_m, height_m, f.heading_deg,
              "curved metal roof, doors facing the apron", 0, 0, ""});
}

void add_building(Builder& b, const Frame& f, double length_m, double width_m, double height_m, float dn,
                  const std::string& id) {
    b.part(f, rect(-length_m / 2, length_m / 2, -width_m / 2, width_m / 2), 0.0, height_m, dn, 0.03f);
    b.part(f, rect(-1.5, 1.5, -1.0, 1.0), height_m, height_m + 1.2, dn * 0.7f);  // roof plant
    b.object({id, "building", "flat-roof building", f.c, length_m, width_m, height_m, f.heading_deg, "", 0, 0, ""});
}

// A road segment as a rectangle, extended by half the width at both ends so bends close.
void add_road(Builder& b, Vec2 a, Vec2 c, double width_m, float dn) {
    const double dx = c.x - a.x, dy = c.y - a.y, len = std::hypot(dx, dy);
    const Frame f{{(a.x + c.x) / 2, (a.y + c.y) / 2}, std::atan2(dx, -dy) / kDeg};
    b.surface(f, rect(-len / 2 - width_m / 2, len / 2 + width_m / 2, -width_m / 2, width_m / 2), dn, 0.05f, 2.0);
}

void finalize(ScenePolygon& p) {
    p.x_min = p.y_min = 1e300;
    p.x_max = p.y_max = -1e300;
    for (const auto& v : p.points_m) {
        p.x_min = std::min(p.x_min, v.x);
        p.x_max = std::max(p.x_max, v.x);
        p.y_min = std::min(p.y_min, v.y);
        p.y_max = std::max(p.y_max, v.y);
    }
}

void validate(const AirfieldParams& p) {
    auto bad = [](const std::string& what) { throw Error("synth airfield: " + what); };
    if (!std::isfinite(p.gsd_m) || p.gsd_m <= 0.0 || p.gsd_m > 10.0) bad("gsd_m must be in (0, 10] metres");
    if (p.width_px < 1 || p.height_px < 1 || p.width_px > 65536 || p.height_px > 65536)
        bad("width and height must be in [1, 65536] pixels");
    if (!std::isfinite(p.sigma_px) || p.sigma_px < 0.0 || p.sigma_px > 5.0) bad("sigma_px must be in [0, 5] pixels");
    if (p.supersample < 1 || p.supersample > 8) bad("supersample must be in [1, 8]");
    if (!std::isfinite(p.sun_azimuth_deg)) bad("sun_azimuth_deg must be finite");
    if (!std::isfinite(p.sun_elevation_deg) || p.sun_elevation_deg < 5.0 || p.sun_elevation_deg > 90.0)
        bad("sun_elevation_deg must be in [5, 90] degrees");
    if (!std::isfinite(p.noise_sigma_dn) || p.noise_sigma_dn < 0.0) bad("noise_sigma_dn must be >= 0");
    if (!std::isfinite(p.shadow_factor) || p.shadow_factor < 0.0 || p.shadow_factor > 1.0)
        bad("shadow_factor must be in [0, 1]");
}

// ----- rendering -----

struct Prepared {
    std::vector<const ScenePolygon*> surface, shadow, object;
    Sun sun;
    double flat_shade = 1;
};

Prepared prepare(const Scene& scene, const AirfieldParams& p) {
    Prepared r;
    for (const auto& poly : scene.polygons) {
        if (poly.points_m.size() < 3) continue;
        (poly.layer == SceneLayer::Surface  ? r.surface
         : poly.layer == SceneLayer::Shadow ? r.shadow
                                            : r.object)
            .push_back(&poly);
    }
    const double az = p.sun_azimuth_deg * kDeg, el = p.sun_elevation_deg * kDeg;
    r.sun = {std::cos(el) * std::sin(az), -std::cos(el) * std::cos(az), std::sin(el)};
    r.flat_shade = 0.3 + 0.7 * r.sun.lz;
    return r;
}

// x positions where the horizontal line at y crosses the polygon outline, sorted.
void crossings(const ScenePolygon& poly, double y, std::vector<double>& xs) {
    xs.clear();
    const auto& pts = poly.points_m;
    for (std::size_t i = 0, j = pts.size() - 1; i < pts.size(); j = i++) {
        const Vec2 a = pts[j], b = pts[i];
        if ((a.y <= y) != (b.y <= y)) xs.push_back(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
    }
    std::sort(xs.begin(), xs.end());
}

// Brightness of a cylinder lying along axis_deg at across-axis offset s in [-1, 1] of its radius:
// Lambertian with a skylight floor, normalized so a flat roof keeps its reflectance.
float cylinder_shade(const ScenePolygon& poly, const Prepared& pr, double x, double y) {
    const double a = poly.axis_deg * kDeg;
    const double rx = std::cos(a), ry = std::sin(a);
    double s = ((x - poly.axis_point_m.x) * rx + (y - poly.axis_point_m.y) * ry) / poly.radius_m;
    s = std::clamp(s, -1.0, 1.0);
    const double nz = std::sqrt(1.0 - s * s);
    const double lambert = std::max(0.0, s * rx * pr.sun.lx + s * ry * pr.sun.ly + nz * pr.sun.lz);
    return static_cast<float>((0.3 + 0.7 * lambert) / pr.flat_shade);
}

std::uint64_t polygon_key(const Scene& scene, const ScenePolygon& poly) {
    return rng::mix64(0xA11CEull + static_cast<std::uint64_t>(&poly - scene.polygons.data()));
}

// Paints one row of scene samples: sample k has centre ((kx0 + k + 0.5) dx, y).
struct RowScratch {
    std::vector<double> xs;
    std::vector<float> tex;
    std::vector<std::uint8_t> mask;
};

void paint_span(const Scene& scene, const ScenePolygon& poly, const Prepared& pr, float* row, std::int64_t ka,
                std::int64_t kb, std::int64_t kx0, double dx, double y, RowScratch& sc) {
    const std::int64_t n = kb - ka;
    if (n <= 0) return;
    if (poly.paint == PaintKind::Cylinder) {
        for (std::int64_t k = ka; k < kb; ++k)
            row[k] = poly.reflectance_dn * cylinder_shade(poly, pr, (static_cast<double>(kx0 + k) + 0.5) * dx, y);
        return;
    }
    if (poly.texture_amplitude == 0.0f) {
        std::fill(row + ka, row + kb, poly.reflectance_dn);
        return;
    }
    sc.tex.assign(static_cast<std::size_t>(n), 1.0f);
    // Two octaves so the lattice of a single octave does not show.
    const std::uint64_t key = polygon_key(scene, poly);
    add_noise_row(sc.tex.data(), n, kx0 + ka, dx, y, poly.texture_scale_m, poly.texture_amplitude, key);
    add_noise_row(sc.tex.data(), n, kx0 + ka, dx, y, poly.texture_scale_m * 0.43, 0.6 * poly.texture_amplitude,
                  rng::mix64(key));
    for (std::int64_t k = 0; k < n; ++k)
        row[ka + k] = poly.reflectance_dn * sc.tex[static_cast<std::size_t>(k)];
}

template <class Fn>
void for_spans(const ScenePolygon& poly, double y, std::int64_t kx0, std::int64_t n, double dx, RowScratch& sc,
               Fn&& fn) {
    if (y < poly.y_min || y >= poly.y_max) return;
    const double x_lo = (static_cast<double>(kx0)) * dx, x_hi = (static_cast<double>(kx0 + n)) * dx;
    if (poly.x_max < x_lo || poly.x_min > x_hi) return;
    crossings(poly, y, sc.xs);
    for (std::size_t i = 0; i + 1 < sc.xs.size(); i += 2) {
        // samples whose centre (k + 0.5) dx lies in [xa, xb)
        const auto ka = static_cast<std::int64_t>(std::ceil(sc.xs[i] / dx - 0.5)) - kx0;
        const auto kb = static_cast<std::int64_t>(std::ceil(sc.xs[i + 1] / dx - 0.5)) - kx0;
        fn(std::clamp<std::int64_t>(ka, 0, n), std::clamp<std::int64_t>(kb, 0, n));
    }
}

void render_scene_row(const Scene& scene, const Prepared& pr, const AirfieldParams& p, double y, std::int64_t kx0,
                      std::int64_t n, double dx, float* row, RowScratch& sc) {
    std::fill(row, row + n, 1.0f);
    for (int i = 0; i < 4; ++i)
        add_noise_row(row, n, kx0, dx, y, kGround[i].scale_m, kGround[i].amplitude, octave_key(kGroundKey, i));
    for (std::int64_t k = 0; k < n; ++k)
        row[k] *= kGroundDn;
    for (const auto* poly : pr.surface)
        for_spans(*poly, y, kx0, n, dx, sc,
                  [&](std::int64_t a, std::int64_t b) { paint_span(scene, *poly, pr, row, a, b, kx0, dx, y, sc); });
    sc.mask.assign(static_cast<std::size_t>(n), 0);
    bool any = false;
    for (const auto* poly : pr.shadow)
        for_spans(*poly, y, kx0, n, dx, sc, [&](std::int64_t a, std::int64_t b) {
            std::fill(sc.mask.begin() + a, sc.mask.begin() + b, std::uint8_t{1});
            any = any || b > a;
        });
    if (any) {
        const auto f = static_cast<float>(p.shadow_factor);
        for (std::int64_t k = 0; k < n; ++k)
            if (sc.mask[static_cast<std::size_t>(k)]) row[k] *= f;
    }
    for (const auto* poly : pr.object)
        for_spans(*poly, y, kx0, n, dx, sc,
                  [&](std::int64_t a, std::int64_t b) { paint_span(scene, *poly, pr, row, a, b, kx0, dx, y, sc); });
}

}  // namespace

Scene build_airfield_scene(const AirfieldParams& params) {
    validate(params);
    Scene scene;
    scene.width_m = static_cast<double>(params.width_px) * params.gsd_m;
    scene.height_m = static_cast<double>(params.height_px) * params.gsd_m;
    Builder b(scene, params);

    // The airfield frame: runway heading 092 (2 degrees off the image rows, so its long straight
    // edges are slanted edges), centre line through (256, 105) m.
    const Frame rw{{256.0, 105.0}, 92.0};
    const double thr = -216.0;  // western threshold, u of the runway frame
    // Runway: 45 m concrete with 7.5 m asphalt shoulders and a blast pad.
    b.surface(rw, rect(thr, 420.0, -30.0, 30.0), 430.0f, 0.06f, 3.0);
    b.surface(rw, rect(thr - 60.0, thr, -22.5, 22.5), 400.0f, 0.06f, 3.0);
    b.surface(rw, rect(thr, 420.0, -22.5, 22.5), 1120.0f, 0.05f, 6.0);
    // Parallel taxiway 120 m south (23 m), two connectors, the apron.
    b.surface(rw, rect(-235.0, 420.0, 108.5, 131.5), 640.0f, 0.06f, 4.0);
    for (const double u : {-170.0, 150.0})
        b.surface(rw, rect(u - 11.5, u + 11.5, 20.0, 120.0), 640.0f, 0.06f, 4.0);
    b.surface(rw, rect(-100.0, 200.0, 131.5, 262.0), 1150.0f, 0.04f, 5.0);
    // Motor pool: gravel pad west of the apron, and the perimeter road.
    b.surface({{24.0, 250.0}, {142.0, 248.0}, {144.0, 442.0}, {26.0, 444.0}}, 760.0f, 0.06f, 2.5);
    const std::vector<Vec2> road = {{-20.0, 484.0}, {90.0, 474.0}, {190.0, 468.0}, {340.0, 460.0}, {540.0, 452.0}};
    for (std::size_t i = 0; i + 1 < road.size(); ++i)
        add_road(b, road[i], road[i + 1], 7.0, 470.0f);
    add_road(b, {90.0, 474.0}, {88.0, 444.0}, 7.0, 470.0f);
    add_road(b, {246.0, 466.0}, {246.0, 433.0}, 10.0, 560.0f);
    // Runway markings (white): threshold bars, centre line dashes, edge lines, touchdown zone and
    // aiming point blocks (ICAO Annex 14 / FAA AC 150/5340-1 proportions).
    for (int k = 0; k < 6; ++k)
        for (const double side : {1.0, -1.0}) {
            const double v = side * (3.0 + 3.6 * k);
            b.surface(rw, rect(thr + 6.0, thr + 36.0, v - 0.9, v + 0.9), kPaintWhite, 0.02f, 1.0);
        }
    for (double u = thr + 66.0; u < 420.0; u += 50.0)
        b.surface(rw, rect(u, u + 30.0, -0.45, 0.45), kPaintWhite, 0.02f, 1.0);
    for (const double side : {1.0, -1.0})
        b.surface(rw, rect(thr, 420.0, side > 0 ? 21.6 : -22.5, side > 0 ? 22.5 : -21.6), kPaintWhite, 0.02f, 1.0);
    for (const double side : {1.0, -1.0}) {
        for (int k = 0; k < 3; ++k) {
            const double v = side * (10.8 + 3.3 * k);
            b.surface(rw, rect(thr + 150.0, thr + 172.5, v - 0.9, v + 0.9), kPaintWhite, 0.02f, 1.0);
        }
        b.surface(rw, rect(thr + 300.0, thr + 345.0, side > 0 ? 9.0 : -18.0, side > 0 ? 18.0 : -9.0), kPaintWhite,
                  0.02f, 1.0);
        for (int k = 0; k < 2; ++k) {
            const double v = side * (10.8 + 3.3 * k);
            b.surface(rw, rect(thr + 450.0, thr + 472.5, v - 0.9, v + 0.9), kPaintWhite, 0.02f, 1.0);
        }
    }
    // Taxiway centre lines (yellow, 0.3 m) and holding positions.
    b.surface(rw, rect(-235.0, 420.0, 119.85, 120.15), kPaintYellow);
    for (const double u : {-170.0, 150.0}) {
        b.surface(rw, rect(u - 0.15, u + 0.15, 22.5, 120.0), kPaintYellow);
        for (int k = 0; k < 4; ++k) {
            const double v = 62.0 + 0.9 * k;
            b.surface(rw, rect(u - 11.0, u + 11.0, v, v + 0.3), kPaintYellow);
        }
    }
    for (double u = -90.0; u < 200.0; u += 5.0)  // apron slab joints
        b.surface(rw, rect(u - 0.06, u + 0.06, 131.5, 262.0), 1000.0f);

    // Aircraft on the apron, noses towards the taxiway; one fighter taxiing east.
    int n_aircraft = 0, n_tank = 0, n_truck = 0, n_tel = 0, n_van = 0, n_hangar = 0, n_building = 0;
    auto next = [](const char* cat, int& n) { return std::string(cat) + "_" + std::to_string(++n); };
    add_il76(b, {rw.at(-40.0, 192.0), 2.0}, next("aircraft", n_aircraft));
    add_il76(b, {rw.at(25.0, 192.0), 2.0}, next("aircraft", n_aircraft));
    for (int k = 0; k < 4; ++k)
        add_mig29(b, {rw.at(82.0 + 18.0 * k, 178.0), 2.0}, next("aircraft", n_aircraft));
    add_mig29(b, {rw.at(172.0, 232.0), 47.0}, next("aircraft", n_aircraft));
    add_mig29(b, {rw.at(-120.0, 120.0), 92.0}, next("aircraft", n_aircraft));
    // Hangars south of the apron, and buildings.
    add_hangar(b, {rw.at(-60.0, 300.0), 2.0}, 50.0, 40.0, 14.0, next("hangar", n_hangar));
    add_hangar(b, {rw.at(0.0, 300.0), 2.0}, 50.0, 40.0, 14.0, next("hangar", n_hangar));
    add_building(b, {rw.at(130.0, 297.0), 2.0}, 20.0, 15.0, 12.0, 1250.0f, next("building", n_building));
    add_building(b, {rw.at(185.0, 290.0), 92.0}, 36.0, 12.0, 6.0, 980.0f, next("building", n_building));
    add_building(b, {{470.0, 420.0}, 30.0}, 24.0, 10.0, 5.0, 1180.0f, next("building", n_building));
    // Motor pool: tanks, trucks, two TELs with support vans.
    for (int k = 0; k < 4; ++k)
        add_t72(b, {{44.0 + 14.0 * k, 276.0}, 0.0}, next("tank", n_tank));
    add_t72(b, {{118.0, 282.0}, 30.0}, next("tank", n_tank));
    for (int k = 0; k < 5; ++k)
        add_truck(b, {{40.0 + 6.0 * k, 322.0}, 0.0}, next("truck", n_truck));
    add_truck(b, {{110.0, 330.0}, 90.0}, next("truck", n_truck));
    add_tel(b, {{72.0, 380.0}, 88.0}, next("tel", n_tel));
    add_tel(b, {{72.0, 410.0}, 92.0}, next("tel", n_tel));
    add_van(b, {{118.0, 380.0}, 90.0}, next("van", n_van));
    add_van(b, {{118.0, 410.0}, 90.0}, next("van", n_van));

    // Large surfaces as objects too, for the truth file.
    b.object({"runway_1", "runway", "concrete runway 09/27", rw.at((thr + 420.0) / 2, 0.0), 636.0, 45.0, 0.0,
              rw.heading_deg, "white markings; threshold at the western end", 0, 0, ""});
    b.object({"taxiway_1", "taxiway", "parallel taxiway", rw.at((-235.0 + 420.0) / 2, 120.0), 655.0, 23.0, 0.0,
              rw.heading_deg, "yellow 0.3 m centre line", 0, 0, ""});
    b.object({"apron_1", "apron", "concrete apron", rw.at(50.0, 196.75), 300.0, 130.5, 0.0, rw.heading_deg,
              "5 m slab joints", 0, 0, ""});

    for (auto& poly : scene.polygons)
        finalize(poly);
    for (auto& o : b.objects()) {
        const bool inside =
            o.centre_m.x >= 0 && o.centre_m.y >= 0 && o.centre_m.x < scene.width_m && o.centre_m.y < scene.height_m;
        if (inside) scene.objects.push_back(o);
    }
    return scene;
}

float scene_radiance(const Scene& scene, const AirfieldParams& params, Vec2 point_m) {
    // Same painting as render, for a single sample: a one-sample row at exactly this x.
    const Prepared pr = prepare(scene, params);
    RowScratch sc;
    float v = 0;
    // A row of one sample, index 0, whose centre 0.5 dx is point_m.x.
    const double dx = point_m.x > 0 ? 2.0 * point_m.x : 1e-9;
    const std::int64_t kx0 = 0;
    render_scene_row(scene, pr, params, point_m.y, kx0, 1, dx, &v, sc);
    return v;
}

void render_scene(const Scene& scene, const AirfieldParams& params, ImageView<float> out) {
    validate(params);
    const Prepared pr = prepare(scene, params);
    const int s = params.supersample;
    const double dx = params.gsd_m / s;
    const double sigma = params.sigma_px;
    // Kernel from scene samples to an output pixel along one axis: sample offset t (in samples
    // from the pixel's first sample) covers [t/S, (t+1)/S) of the pixel; its weight is the mean
    // over the output pixel [0, 1) of the Gaussian-blurred indicator of that cell (the same
    // exact box * Gaussian integral as the edge and tri-bar targets, via normal_cdf).
    const int reach = sigma > 0 ? static_cast<int>(std::ceil(6.0 * sigma * s)) : 0;
    std::vector<float> w;
    {
        std::vector<double> wd;
        double sum = 0;
        auto g = [&](double x) {  // antiderivative of the blurred step
            if (sigma == 0) return std::max(x, 0.0);
            const double t = x / sigma;
            return x * normal_cdf(t) + sigma * std::exp(-0.5 * t * t) / std::sqrt(2.0 * std::numbers::pi);
        };
        for (int t = -reach; t < s + reach; ++t) {
            const double a = static_cast<double>(t) / s, c = static_cast<double>(t + 1) / s;
            const double v = (g(1.0 - a) - g(-a)) - (g(1.0 - c) - g(-c));
            wd.push_back(v);
            sum += v;
        }
        for (const double v : wd)
            w.push_back(static_cast<float>(v / sum));
    }
    const auto taps = static_cast<std::int64_t>(w.size());
    const std::int64_t width = out.width;
    const std::int64_t n = width * s + 2 * reach;  // samples per scene row
    const std::int64_t kx0 = -reach;
    constexpr std::int64_t kStrip = 64;  // output rows per strip: the halo of 2 reach scene rows is shared by many
    parallel_rows(out.height, width, [&](std::int64_t ya, std::int64_t yb) {
        RowScratch sc;
        std::vector<float> hr, vbuf;
        for (std::int64_t y0 = ya; y0 < yb; y0 += kStrip) {
            const std::int64_t y1 = std::min(yb, y0 + kStrip);
            const std::int64_t rows = (y1 - y0) * s + 2 * reach;
            const std::int64_t ky0 = y0 * s - reach;
            hr.resize(static_cast<std::size_t>(rows * n));
            for (std::int64_t r = 0; r < rows; ++r)
                render_scene_row(scene, pr, params, (static_cast<double>(ky0 + r) + 0.5) * dx, kx0, n, dx,
                                 hr.data() + r * n, sc);
            vbuf.assign(static_cast<std::size_t>(n), 0.0f);
            for (std::int64_t y = y0; y < y1; ++y) {
                std::fill(vbuf.begin(), vbuf.end(), 0.0f);
                const std::int64_t r0 = (y - y0) * s;  // hr row of tap 0
                for (std::int64_t t = 0; t < taps; ++t) {
                    const float wt = w[static_cast<std::size_t>(t)];
                    const float* src = hr.data() + (r0 + t) * n;
                    for (std::int64_t k = 0; k < n; ++k)
                        vbuf[static_cast<std::size_t>(k)] += wt * src[k];
                }
                float* o = out.row(y);
                for (std::int64_t x = 0; x < width; ++x) {
                    const float* src = vbuf.data() + x * s;
                    float acc = 0.0f;
                    for (std::int64_t t = 0; t < taps; ++t)
                        acc += w[static_cast<std::size_t>(t)] * src[t];
                    o[x] = acc;
                }
            }
        }
    });
    add_gaussian_noise(out, params.noise_sigma_dn, params.seed);
}

}  // namespace satiq
