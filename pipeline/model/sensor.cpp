#include "satiq/pipeline/model/sensor.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "satiq/kernels/error.hpp"

namespace satiq::sensor {

namespace detail {
// Defined in the generated sensor_data.cpp (pipeline/model/sensor_data.cpp.in + data/sensors.json).
extern const char* const embedded_sensors_json;
}  // namespace detail

namespace {

constexpr double pi = std::numbers::pi;
constexpr double deg = pi / 180.0;

void require_positive(const char* field, double v) {
    if (!std::isfinite(v) || v <= 0.0)
        throw Error(fmt::format("sensor: {} must be a finite number greater than 0 (got {})", field, v));
}

void require_non_negative(const char* field, double v) {
    if (!std::isfinite(v) || v < 0.0)
        throw Error(fmt::format("sensor: {} must be a finite number >= 0 (got {})", field, v));
}

// Composite Simpson weights over N (even) intervals: 1 4 2 4 ... 2 4 1, times h/3.
double simpson_weight(std::size_t i, std::size_t n) {
    if (i == 0 || i == n) return 1.0;
    return (i % 2 == 1) ? 4.0 : 2.0;
}

// Fixed sampling of a 1-D transfer function on [0, f_max] for the edge integrals.
struct Sampled {
    double h = 0.0;
    std::vector<double> t;  // t[i] = T(i h)
};

Sampled sample(const TransferFunction1d& t, double f_max) {
    require_positive("edge_response f_max_cyc_per_px", f_max);
    // Step <= 2e-4 cy/px: over x <= 3 px the sine has >= 1600 samples per period, and the kinks of
    // the diffraction OTF (obscuration, cutoff) are resolved far below the 1e-4 RER target.
    std::size_t n = static_cast<std::size_t>(std::ceil(f_max / 2e-4));
    n = std::max<std::size_t>(n, 2000);
    if (n % 2) ++n;
    Sampled s;
    s.h = f_max / static_cast<double>(n);
    s.t.resize(n + 1);
    for (std::size_t i = 0; i <= n; ++i)
        s.t[i] = t(static_cast<double>(i) * s.h);
    return s;
}

// ER(x) = 0.5 + (1/pi) int T(f)/f sin(2 pi f x) df (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE
// Press, 2010); f->0 limit of the kernel 2 pi x.
double edge_from_samples(const Sampled& s, double x) {
    const std::size_t n = s.t.size() - 1;
    double sum = 0.0;  // fixed order: deterministic
    for (std::size_t i = 0; i <= n; ++i) {
        const double f = static_cast<double>(i) * s.h;
        const double k = (i == 0) ? 2.0 * pi * x : std::sin(2.0 * pi * f * x) / f;
        sum += simpson_weight(i, n) * s.t[i] * k;
    }
    return 0.5 + (s.h / 3.0) * sum / pi;
}

// LSF(x) = d ER / dx = 2 int T(f) cos(2 pi f x) df.
double lsf_from_samples(const Sampled& s, double x) {
    const std::size_t n = s.t.size() - 1;
    double sum = 0.0;
    for (std::size_t i = 0; i <= n; ++i) {
        const double f = static_cast<double>(i) * s.h;
        sum += simpson_weight(i, n) * s.t[i] * std::cos(2.0 * pi * f * x);
    }
    return 2.0 * (s.h / 3.0) * sum;
}

// Half width at half maximum of a symmetric LSF peaked at 0: scan outward, then bisect.
template <class Lsf>
double fwhm_of(const Lsf& lsf) {
    const double half = 0.5 * lsf(0.0);
    if (!(half > 0.0)) return 0.0;
    double lo = 0.0;
    double hi = 0.0;
    const double step = 0.05;
    for (int k = 1; k <= 2000; ++k) {
        hi = k * step;
        if (lsf(hi) <= half) break;
        lo = hi;
    }
    for (int it = 0; it < 50; ++it) {
        const double mid = 0.5 * (lo + hi);
        (lsf(mid) > half ? lo : hi) = mid;
    }
    return 2.0 * 0.5 * (lo + hi);
}

// Overshoot H per Leachtenauer et al., Appl. Opt. 36(32), 1997: max ER over +1..+3 px in 0.25 steps; ER(+1.25) if
// monotonic rising.
template <class Er>
double overshoot_of(const Er& er) {
    std::vector<double> v;
    for (int k = 0; k <= 8; ++k)
        v.push_back(er(1.0 + 0.25 * k));
    bool rising = true;
    for (std::size_t i = 1; i < v.size(); ++i)
        if (v[i] < v[i - 1]) rising = false;
    if (rising) return v[1];
    return *std::max_element(v.begin(), v.end());
}

// First frequency where T falls to 0.5, by linear interpolation between samples.
double mtf50_from_samples(const Sampled& s) {
    if (s.t.empty() || s.t[0] < 0.5) return 0.0;
    for (std::size_t i = 1; i < s.t.size(); ++i) {
        if (s.t[i] < 0.5) {
            const double f0 = static_cast<double>(i - 1) * s.h;
            const double a = s.t[i - 1];
            const double b = s.t[i];
            return f0 + s.h * (a - 0.5) / (a - b);
        }
    }
    return static_cast<double>(s.t.size() - 1) * s.h;
}

std::string normalise_name(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '-' || c == '_' || c == ' ') continue;
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

}  // namespace

// ---------------- components ----------------

double annular_aperture_otf(double nu, double eps) {
    // Diffraction-limited OTF of an annular (centrally obscured) circular pupil, E. L. O'Neill,
    // "Transfer function for an annular aperture", JOSA 46(4):285, 1956; the same form is given in
    // Schott, "Remote Sensing: The Image Chain Approach" (2nd ed., 2007) and Fiete, "Modeling the
    // Imaging Chain of Digital Cameras" (SPIE 2010). nu = f / (1/(lambda F#)).
    if (!(eps >= 0.0 && eps < 1.0))
        throw Error(fmt::format("annular_aperture_otf: obscuration must be in [0, 1) (got {})", eps));
    nu = std::abs(nu);
    if (nu >= 1.0) return 0.0;
    const double a = (2.0 / pi) * (std::acos(nu) - nu * std::sqrt(1.0 - nu * nu));
    if (eps == 0.0) return a;
    const double e2 = eps * eps;
    double b = 0.0;
    if (nu < eps) {
        const double r = nu / eps;
        b = (2.0 * e2 / pi) * (std::acos(r) - r * std::sqrt(1.0 - r * r));
    }
    double c = 0.0;
    if (nu <= 0.5 * (1.0 - eps)) {
        c = -2.0 * e2;
    } else if (nu < 0.5 * (1.0 + eps)) {
        const double arg = std::clamp((1.0 + e2 - 4.0 * nu * nu) / (2.0 * eps), -1.0, 1.0);
        const double phi = std::acos(arg);
        c = (2.0 * eps / pi) * std::sin(phi) + ((1.0 + e2) / pi) * phi -
            (2.0 * (1.0 - e2) / pi) * std::atan(((1.0 + eps) / (1.0 - eps)) * std::tan(0.5 * phi)) - 2.0 * e2;
    }
    return (a + b + c) / (1.0 - e2);
}

double defocus_transfer(double f_cyc_per_px, double blur_diameter_px) {
    // Geometric-optics defocus: a uniform blur circle of diameter d has the transfer function
    // 2 J1(pi d f) / (pi d f) (Holst, "Electro-Optical Imaging System Performance", 5th ed., defocus
    // MTF; Smith, "Modern Optical Engineering", geometric approximation valid for defocus >> lambda).
    const double x = pi * blur_diameter_px * std::abs(f_cyc_per_px);
    if (x < 1e-9) return 1.0;
    return 2.0 * std::cyl_bessel_j(1.0, x) / x;
}

double wavefront_error_transfer(double nu, double wfe_rms_waves) {
    // Aberration transfer function approximation for a random RMS wavefront error W (waves):
    // ATF(nu) = 1 - (W/0.18)^2 (1 - 4 (nu - 0.5)^2), 0 <= nu <= 1 (R. R. Shannon, "The Art and
    // Science of Optical Design", 1997; as used by Fiete, "Modeling the Imaging Chain", SPIE 2010).
    nu = std::abs(nu);
    if (nu >= 1.0 || wfe_rms_waves == 0.0) return 1.0;
    const double w = wfe_rms_waves / 0.18;
    return 1.0 - w * w * (1.0 - 4.0 * (nu - 0.5) * (nu - 0.5));
}

// ---------------- geometry ----------------

ViewGeometry view_from_elevation(double altitude_m, double elevation_deg) {
    require_positive("altitude_m", altitude_m);
    if (!std::isfinite(elevation_deg) || elevation_deg <= 0.0 || elevation_deg > 90.0)
        throw Error(fmt::format("sensor: elevation_deg must be in (0, 90] degrees (got {})", elevation_deg));
    // Spherical Earth (Wertz & Larson, "Space Mission Analysis and Design", 3rd ed., §5.2):
    // sin(eta) = sin(rho) cos(eps), rho = asin(R/(R+h)); lambda = 90 - eta - eps;
    // slant range D = sqrt((R+h)^2 - R^2 cos^2 eps) - R sin eps.
    const double r = earth_radius_m;
    const double e = elevation_deg * deg;
    const double sin_rho = r / (r + altitude_m);
    ViewGeometry g;
    g.elevation_deg = elevation_deg;
    // cos(90 deg) in doubles is 6e-17, not 0: nadir is exact.
    g.off_nadir_deg = elevation_deg == 90.0 ? 0.0 : std::asin(sin_rho * std::cos(e)) / deg;
    g.earth_central_angle_deg = 90.0 - g.off_nadir_deg - elevation_deg;
    const double rc = r * std::cos(e);
    g.slant_range_m = std::sqrt((r + altitude_m) * (r + altitude_m) - rc * rc) - r * std::sin(e);
    return g;
}

ViewGeometry view_from_off_nadir(double altitude_m, double off_nadir_deg) {
    require_positive("altitude_m", altitude_m);
    const double r = earth_radius_m;
    const double rho_deg = std::asin(r / (r + altitude_m)) / deg;
    if (!std::isfinite(off_nadir_deg) || off_nadir_deg < 0.0 || off_nadir_deg >= rho_deg)
        throw Error(fmt::format(
            "sensor: off_nadir_deg must be in [0, {:.2f}) degrees (the Earth's horizon seen from {:.0f} m) (got {})",
            rho_deg, altitude_m, off_nadir_deg));
    const double cos_e = std::sin(off_nadir_deg * deg) / std::sin(rho_deg * deg);
    return view_from_elevation(altitude_m, std::acos(std::clamp(cos_e, 0.0, 1.0)) / deg);
}

// ---------------- edge response ----------------

double edge_response(const TransferFunction1d& t, double f_max_cyc_per_px, double x_px) {
    return edge_from_samples(sample(t, f_max_cyc_per_px), x_px);
}

EdgeFigures edge_figures(const TransferFunction1d& t, double f_max_cyc_per_px, EdgeConvention convention) {
    const Sampled s = convention == EdgeConvention::modulus
                          ? sample([&t](double fr) { return std::abs(t(fr)); }, f_max_cyc_per_px)
                          : sample(t, f_max_cyc_per_px);
    EdgeFigures e;
    e.mtf_nyquist = f_max_cyc_per_px > 0.5 ? std::abs(t(0.5)) : 0.0;
    e.mtf50_cyc_per_px = mtf50_from_samples(s);
    // ER is odd about 0.5 for an even T: ER(-x) = 1 - ER(x), so RER = 2 ER(0.5) - 1.
    e.rer = 2.0 * edge_from_samples(s, 0.5) - 1.0;
    e.overshoot_h = overshoot_of([&](double x) { return edge_from_samples(s, x); });
    e.fwhm_px = fwhm_of([&](double x) { return lsf_from_samples(s, x); });
    return e;
}

double gaussian_box_edge_response(double sigma_px, double x_px) {
    if (!std::isfinite(sigma_px) || sigma_px < 0.0)
        throw Error(fmt::format("gaussian_box_edge_response: sigma_px must be >= 0 (got {})", sigma_px));
    if (sigma_px == 0.0) return std::clamp(x_px + 0.5, 0.0, 1.0);
    // The antiderivative of Phi(t/s) (optics.hpp), differenced over the pixel.
    return gaussian_cdf_antiderivative(x_px + 0.5, sigma_px) - gaussian_cdf_antiderivative(x_px - 0.5, sigma_px);
}

double sigma_from_mtf_nyquist(double mtf_nyquist) {
    const double max_mtf = 2.0 / pi;  // sinc(0.5): the pixel alone
    if (!std::isfinite(mtf_nyquist) || mtf_nyquist <= 0.0 || mtf_nyquist > max_mtf)
        throw Error(fmt::format(
            "sensor: mtf_nyquist must be in (0, {:.4f}] (a square pixel alone gives 2/pi at Nyquist) (got {})", max_mtf,
            mtf_nyquist));
    // exp(-2 pi^2 s^2 / 4) (2/pi) = m  =>  s^2 = -2 ln(m pi / 2) / pi^2.
    const double v = -2.0 * std::log(mtf_nyquist * pi / 2.0) / (pi * pi);
    return std::sqrt(std::max(0.0, v));
}

// ---------------- description / model ----------------

void SensorDescription::validate() const {
    require_positive("altitude_m", altitude_m);
    if (off_nadir_deg && elevation_deg) throw Error("sensor: give either off_nadir_deg or elevation_deg, not both");
    require_positive("aperture_diameter_m", aperture_diameter_m);
    if (!std::isfinite(central_obscuration_ratio) || central_obscuration_ratio < 0.0 ||
        central_obscuration_ratio >= 1.0)
        throw Error(
            fmt::format("sensor: central_obscuration_ratio must be in [0, 1) (got {})", central_obscuration_ratio));
    require_positive("focal_length_m", focal_length_m);
    if (const double f_number = focal_length_m / aperture_diameter_m; f_number < kFastestFNumber)
        throw Error(
            fmt::format("sensor: focal_length_m / aperture_diameter_m = {:g} / {:g} is f/{:.3g}, faster than "
                        "f/0.5, the limit of any imaging optics in air (numerical aperture 1)",
                        focal_length_m, aperture_diameter_m, f_number));
    require_positive("detector_pitch_m", detector_pitch_m);
    require_positive("fill_factor", fill_factor);
    if (fill_factor > 1.0) throw Error(fmt::format("sensor: fill_factor must be in (0, 1] (got {})", fill_factor));
    require_positive("wavelength_m", wavelength_m);
    require_non_negative("jitter_sigma_px", jitter_sigma_px);
    require_non_negative("smear_px", smear_px);
    require_non_negative("defocus_blur_diameter_px", defocus_blur_diameter_px);
    require_non_negative("wavefront_error_rms_waves", wavefront_error_rms_waves);
    if (wavefront_error_rms_waves >= 0.18)
        throw Error(fmt::format(
            "sensor: wavefront_error_rms_waves must be below 0.18 waves for the Shannon approximation (got {})",
            wavefront_error_rms_waves));
    require_positive("full_well_e", full_well_e);
    require_non_negative("read_noise_e", read_noise_e);
    if (bits <= 0 || bits > 32) throw Error(fmt::format("sensor: bits must be in 1..32 (got {})", bits));
    if (snr) require_positive("snr", *snr);
    if (!snr && !radiometry) throw Error("sensor: give either snr or a radiometry model");
    if (radiometry) {
        const Radiometry& r = *radiometry;
        require_positive("radiometry.integration_time_s", r.integration_time_s);
        require_positive("radiometry.band_width_um", r.band_width_um);
        require_positive("radiometry.optics_transmittance", r.optics_transmittance);
        require_positive("radiometry.quantum_efficiency", r.quantum_efficiency);
        require_positive("radiometry.solar_irradiance_w_m2_um", r.solar_irradiance_w_m2_um);
        require_positive("radiometry.atmospheric_transmittance", r.atmospheric_transmittance);
        require_non_negative("radiometry.path_radiance_w_m2_sr_um", r.path_radiance_w_m2_sr_um);
        if (!(r.solar_zenith_deg >= 0.0 && r.solar_zenith_deg < 90.0))
            throw Error(
                fmt::format("sensor: radiometry.solar_zenith_deg must be in [0, 90) (got {})", r.solar_zenith_deg));
    }
}

SensorModel SensorModel::physical(const SensorDescription& d) {
    d.validate();
    SensorModel m;
    m.m_simple = false;
    m.m_desc = d;
    m.m_q = d.wavelength_m * (d.focal_length_m / d.aperture_diameter_m) / d.detector_pitch_m;
    m.compute_figures();
    return m;
}

SensorModel SensorModel::simple(const SimpleSensorSpec& s) {
    require_positive("gsd_m", s.gsd_m);
    require_positive("snr", s.snr);
    require_positive("full_well_e", s.full_well_e);
    require_non_negative("read_noise_e", s.read_noise_e);
    if (s.bits <= 0 || s.bits > 32) throw Error(fmt::format("sensor: bits must be in 1..32 (got {})", s.bits));
    if (s.mtf_nyquist.has_value() == s.sigma_px.has_value())
        throw Error("sensor: the simple form needs exactly one of mtf_nyquist or sigma_px");
    SensorModel m;
    m.m_simple = true;
    m.m_simple_spec = s;
    if (s.sigma_px) {
        require_non_negative("sigma_px", *s.sigma_px);
        m.m_sigma_px = *s.sigma_px;
    } else {
        m.m_sigma_px = sigma_from_mtf_nyquist(*s.mtf_nyquist);
    }
    m.compute_figures();
    return m;
}

DetectorNoise SensorModel::detector_noise() const {
    if (m_simple) return {m_simple_spec.snr, m_simple_spec.full_well_e, m_simple_spec.read_noise_e, m_simple_spec.bits};
    return {m_figures.snr, m_desc.full_well_e, m_desc.read_noise_e, m_desc.bits};
}

double SensorModel::gsd_m() const {
    return m_simple ? m_simple_spec.gsd_m : m_figures.gsd_ground_m;
}

std::optional<double> SensorModel::gaussian_sigma_px() const {
    if (m_simple) return m_sigma_px;
    return std::nullopt;
}

double SensorModel::frequency_limit_cyc_per_px() const {
    if (!m_simple) return 1.0 / m_q;  // diffraction cutoff: the product is exactly 0 beyond
    if (m_sigma_px <= 0.0) return 64.0;
    // exp(-2 pi^2 s^2 f^2) < 1e-12 beyond f = sqrt(ln(1e12) / (2 pi^2 s^2)).
    return std::min(64.0, std::sqrt(std::log(1e12) / (2.0 * pi * pi * m_sigma_px * m_sigma_px)));
}

double SensorModel::transfer(double fx, double fy, MtfPart part) const {
    const double rho = std::hypot(fx, fy);
    if (m_simple) {
        const double pre = gaussian_transfer(rho, m_sigma_px);
        const double det = sinc(fx) * sinc(fy);
        switch (part) {
            case MtfPart::system:
                return pre * det;
            case MtfPart::pre_detector:
                return pre;
            case MtfPart::detector:
                return det;
            case MtfPart::optics:
                return pre;
        }
        return 0.0;
    }
    const SensorDescription& d = m_desc;
    auto optics = [&] {
        const double nu = rho * m_q;  // cutoff 1/Q cy/px
        double t = annular_aperture_otf(nu, d.central_obscuration_ratio);
        if (t == 0.0) return 0.0;
        t *= wavefront_error_transfer(nu, d.wavefront_error_rms_waves);
        if (d.defocus_blur_diameter_px > 0.0) t *= defocus_transfer(rho, d.defocus_blur_diameter_px);
        return t;
    };
    auto pre = [&] {
        double t = optics();
        if (t == 0.0) return 0.0;
        t *= gaussian_transfer(rho, d.jitter_sigma_px);
        t *= sinc(fy * d.smear_px);  // along-scan smear (y)
        return t;
    };
    auto det = [&] {
        const double a = std::sqrt(d.fill_factor);  // active width / pitch
        return sinc(fx * a) * sinc(fy * a);
    };
    switch (part) {
        case MtfPart::system:
            return pre() * det();
        case MtfPart::pre_detector:
            return pre();
        case MtfPart::detector:
            return det();
        case MtfPart::optics:
            return optics();
    }
    return 0.0;
}

double SensorModel::mtf(double fx, double fy, MtfPart part) const {
    return std::abs(transfer(fx, fy, part));
}

TransferFunction SensorModel::transfer_function(MtfPart part) const {
    SensorModel copy = *this;
    return [copy, part](double fx, double fy) { return copy.transfer(fx, fy, part); };
}

void SensorModel::compute_figures() {
    SensorFigures& f = m_figures;
    f = SensorFigures{};
    f.simple = m_simple;
    if (m_simple) {
        const SimpleSensorSpec& s = m_simple_spec;
        f.gsd_normal_m = f.gsd_ground_across_m = f.gsd_ground_along_look_m = f.gsd_ground_m = f.gsd_weighted_m =
            s.gsd_m;
        f.gaussian_sigma_px = m_sigma_px;
        f.snr = s.snr;
        // Analytic Gaussian-box edge (R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010).
        EdgeFigures e;
        const double sg = m_sigma_px;
        e.mtf_nyquist = std::abs(gaussian_transfer(0.5, sg) * sinc(0.5));
        e.rer = gaussian_box_edge_response(sg, 0.5) - gaussian_box_edge_response(sg, -0.5);
        e.overshoot_h = overshoot_of([&](double x) { return gaussian_box_edge_response(sg, x); });
        // MTF50: T is monotone decreasing on [0, 1]; bisection.
        {
            auto t = [&](double fr) { return gaussian_transfer(fr, sg) * sinc(fr); };
            double lo = 0.0, hi = 1.0;
            for (int it = 0; it < 60; ++it) {
                const double mid = 0.5 * (lo + hi);
                (t(mid) > 0.5 ? lo : hi) = mid;
            }
            e.mtf50_cyc_per_px = 0.5 * (lo + hi);
        }
        e.fwhm_px = fwhm_of([&](double x) {
            if (sg == 0.0) return (std::abs(x) < 0.5) ? 1.0 : (std::abs(x) == 0.5 ? 0.5 : 0.0);
            return normal_cdf((x + 0.5) / sg) - normal_cdf((x - 0.5) / sg);
        });
        f.x = e;
        f.y = e;
        return;
    }

    const SensorDescription& d = m_desc;
    ViewGeometry g;
    if (d.elevation_deg)
        g = view_from_elevation(d.altitude_m, *d.elevation_deg);
    else
        g = view_from_off_nadir(d.altitude_m, d.off_nadir_deg.value_or(0.0));
    f.off_nadir_deg = g.off_nadir_deg;
    f.elevation_deg = g.elevation_deg;
    f.slant_range_m = g.slant_range_m;
    f.earth_central_angle_deg = g.earth_central_angle_deg;
    // GSD definitions: Leachtenauer et al., Appl. Opt. 36(32), 1997, NGA 2015 §2.3.
    const double sin_e = std::sin(g.elevation_deg * deg);
    f.gsd_normal_m = d.detector_pitch_m / d.focal_length_m * g.slant_range_m;
    f.gsd_ground_across_m = f.gsd_normal_m;
    f.gsd_ground_along_look_m = f.gsd_normal_m / sin_e;
    f.gsd_ground_m = f.gsd_normal_m / std::sqrt(sin_e);
    f.gsd_weighted_m = f.gsd_normal_m / std::pow(sin_e, 0.25);
    f.f_number = d.focal_length_m / d.aperture_diameter_m;
    f.q = m_q;
    f.optical_cutoff_cyc_per_px = 1.0 / m_q;

    const double f_max = frequency_limit_cyc_per_px();
    f.x = edge_figures([this](double fr) { return transfer(fr, 0.0); }, f_max);
    f.y = edge_figures([this](double fr) { return transfer(0.0, fr); }, f_max);

    if (d.radiometry) {
        // Radiometric model (documented assumptions, see Radiometry):
        //  L(rho) = rho E0 cos(theta_s) tau_atm / pi + L_path   (Lambertian target; Schott 2007 ch. 4,
        //           the "big equation" reduced to direct sun and path radiance),
        //  E_fp   = pi L tau_opt (1 - eps^2) / (4 F#^2)          (camera equation, obscured pupil),
        //  N_e    = E_fp dlambda A_det t QE lambda / (h c)       (electrons per pixel),
        //  noise  = sqrt(N_e(15 %) + read^2 + (FW / 2^bits)^2 / 12) (shot, read, quantisation),
        //  SNR    = (N_e(15 %) - N_e(7 %)) / noise               (GIQE SNR, Leachtenauer et al., Appl. Opt. 36(32),
        //  1997).
        const Radiometry& r = *d.radiometry;
        constexpr double hc = 6.62607015e-34 * 2.99792458e8;
        auto electrons = [&](double reflectance) {
            const double l = reflectance * r.solar_irradiance_w_m2_um * std::cos(r.solar_zenith_deg * deg) *
                                 r.atmospheric_transmittance / pi +
                             r.path_radiance_w_m2_sr_um;
            const double e_fp = pi * l * r.optics_transmittance *
                                (1.0 - d.central_obscuration_ratio * d.central_obscuration_ratio) /
                                (4.0 * f.f_number * f.f_number);
            const double area = d.detector_pitch_m * d.detector_pitch_m * d.fill_factor;
            return e_fp * r.band_width_um * area * r.integration_time_s * r.quantum_efficiency * d.wavelength_m / hc;
        };
        f.signal_07_e = electrons(0.07);
        f.signal_15_e = electrons(0.15);
        const double lsb = d.full_well_e / std::pow(2.0, d.bits);
        f.noise_15_e = std::sqrt(f.signal_15_e + d.read_noise_e * d.read_noise_e + lsb * lsb / 12.0);
        if (f.signal_15_e > d.full_well_e)
            f.warnings.push_back(fmt::format(
                "sensor: the 15 % reflectance target gives {:.0f} e-, above the full well {:.0f} e- (saturated)",
                f.signal_15_e, d.full_well_e));
        if (!d.snr) {
            f.snr = (f.signal_15_e - f.signal_07_e) / f.noise_15_e;
            f.snr_from_radiometry = true;
        }
    }
    if (d.snr) f.snr = *d.snr;
    // Earth-observation telescopes are built between about f/3 and f/20 (the presets: f/3.9 to f/19.8);
    // outside f/1..f/40 the focal length or the aperture is more likely mistyped than designed.
    if (f.f_number < 1.0 || f.f_number > 40.0)
        f.warnings.push_back(fmt::format(
            "sensor: f/{:.3g} (focal length {:g} m / aperture {:g} m) is outside the f/1 to f/40 of imaging "
            "telescopes; check --focal-length-m and --aperture-m",
            f.f_number, d.focal_length_m, d.aperture_diameter_m));
    if (g.elevation_deg < 30.0)
        f.warnings.push_back(fmt::format(
            "sensor: elevation {:.1f} deg: low-angle views add obscuration and atmosphere the model ignores",
            g.elevation_deg));
}

// ---------------- presets ----------------

const char* to_string(FigureNote::Kind k) {
    switch (k) {
        case FigureNote::Kind::source:
            return "source";
        case FigureNote::Kind::assumed:
            return "assumed";
        case FigureNote::Kind::derived:
            return "derived";
    }
    return "unknown";
}

namespace {

std::vector<SensorPreset> parse_presets_document(const std::string& json_text) {
    using nlohmann::json;
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception& e) {
        throw Error(fmt::format("sensor presets: invalid JSON: {}", e.what()));
    }
    if (!doc.contains("sensors") || !doc["sensors"].is_array())
        throw Error("sensor presets: the document needs a \"sensors\" array");
    std::vector<SensorPreset> out;
    for (const json& s : doc["sensors"]) {
        SensorPreset p;
        p.name = s.value("name", "");
        if (p.name.empty()) throw Error("sensor presets: a sensor has no \"name\"");
        p.display_name = s.value("display_name", p.name);
        p.notes = s.value("notes", "");
        if (!s.contains("figures") || !s["figures"].is_object())
            throw Error(fmt::format("sensor presets: {}: no \"figures\" object", p.name));
        const json& figs = s["figures"];
        for (auto it = figs.begin(); it != figs.end(); ++it) {
            const json& v = it.value();
            if (!v.is_object() || !v.contains("value") || !v["value"].is_number())
                throw Error(fmt::format("sensor presets: {}: figure {} needs a numeric \"value\"", p.name, it.key()));
            int marks = 0;
            FigureNote note;
            for (auto [key, kind] :
                 {std::pair{"source", FigureNote::Kind::source}, std::pair{"assumed", FigureNote::Kind::assumed},
                  std::pair{"derived", FigureNote::Kind::derived}}) {
                if (v.contains(key)) {
                    if (!v[key].is_string() || v[key].get<std::string>().empty())
                        throw Error(fmt::format("sensor presets: {}: figure {}: \"{}\" must be a non-empty text",
                                                p.name, it.key(), key));
                    note.kind = kind;
                    note.text = v[key].get<std::string>();
                    ++marks;
                }
            }
            if (marks != 1)
                throw Error(fmt::format(
                    "sensor presets: {}: figure {} needs exactly one of \"source\", \"assumed\" or \"derived\"", p.name,
                    it.key()));
            p.provenance[it.key()] = note;
        }
        auto num = [&](const char* key) {
            if (!figs.contains(key)) throw Error(fmt::format("sensor presets: {}: missing figure {}", p.name, key));
            return figs[key]["value"].get<double>();
        };
        SensorDescription& d = p.description;
        d.name = p.name;
        p.gsd_nadir_reported_m = num("gsd_nadir_m");
        d.altitude_m = num("altitude_m");
        d.aperture_diameter_m = num("aperture_diameter_m");
        d.central_obscuration_ratio = num("central_obscuration_ratio");
        d.focal_length_m = num("focal_length_m");
        d.detector_pitch_m = num("detector_pitch_m");
        d.fill_factor = num("fill_factor");
        d.wavelength_m = num("wavelength_m");
        d.jitter_sigma_px = num("jitter_sigma_px");
        d.smear_px = num("smear_px");
        d.defocus_blur_diameter_px = num("defocus_blur_diameter_px");
        d.wavefront_error_rms_waves = num("wavefront_error_rms_waves");
        d.full_well_e = num("full_well_e");
        d.read_noise_e = num("read_noise_e");
        d.bits = static_cast<int>(std::lround(num("bits")));
        d.snr = num("snr");
        try {
            d.validate();
        } catch (const Error& e) {
            throw Error(fmt::format("sensor presets: {}: {}", p.name, e.what()));
        }
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

std::vector<SensorPreset> parse_sensor_presets(const std::string& json_text) {
    // A member of the wrong JSON type (a sensor that is not an object, a numeric "name") is a
    // satiq::Error like every other defect of the document, not a nlohmann::json exception.
    try {
        return parse_presets_document(json_text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(fmt::format("sensor presets: invalid document: {}", e.what()));
    }
}

const std::string& sensor_presets_json() {
    static const std::string text = detail::embedded_sensors_json;
    return text;
}

const std::vector<SensorPreset>& sensor_presets() {
    static const std::vector<SensorPreset> presets = parse_sensor_presets(sensor_presets_json());
    return presets;
}

std::vector<std::string> sensor_preset_names() {
    std::vector<std::string> names;
    for (const SensorPreset& p : sensor_presets())
        names.push_back(p.name);
    return names;
}

const SensorPreset& find_sensor_preset(std::string_view name) {
    const std::string key = normalise_name(name);
    for (const SensorPreset& p : sensor_presets())
        if (normalise_name(p.name) == key || normalise_name(p.display_name) == key) return p;
    std::string list;
    for (const SensorPreset& p : sensor_presets())
        list += (list.empty() ? "" : ", ") + p.name;
    throw Error(fmt::format("unknown sensor preset '{}'; valid names: {}", name, list));
}

}  // namespace satiq::sensor
