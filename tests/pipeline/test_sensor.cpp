// Sensor model: MTF components, edge response (RER, H) against R. D. Fiete, Modeling the Imaging Chain of Digital
// Cameras, SPIE Press, 2010, geometry, presets.
#include <cmath>
#include <numbers>
#include <set>

#include <gtest/gtest.h>

#include "satiq/kernels/error.hpp"
#include "satiq/pipeline/model/sensor.hpp"

using namespace satiq::sensor;

namespace {

constexpr double pi = std::numbers::pi;

// Ideal optics at a given Q with a 100 %-fill detector: only diffraction and the pixel.
SensorDescription ideal(double q, double obscuration = 0.0) {
    SensorDescription d;
    d.altitude_m = 500000.0;
    d.aperture_diameter_m = 0.5;
    d.detector_pitch_m = 10e-6;
    d.wavelength_m = 0.5e-6;
    // Q = lambda F / p  =>  F = Q p / lambda, focal = F D.
    d.focal_length_m = q * d.detector_pitch_m / d.wavelength_m * d.aperture_diameter_m;
    d.central_obscuration_ratio = obscuration;
    d.full_well_e = 50000.0;
    d.read_noise_e = 10.0;
    d.bits = 12;
    d.snr = 50.0;
    return d;
}

// Pupil autocorrelation of an annulus (outer radius 1, inner eps) by counting grid points: an
// independent check of O'Neill's closed form. Shift 2 nu (cutoff at nu = 1).
double annulus_overlap_numeric(double nu, double eps) {
    const int n = 1200;
    const double step = 2.0 / n;
    auto inside = [eps](double x, double y) {
        const double r2 = x * x + y * y;
        return r2 <= 1.0 && r2 >= eps * eps;
    };
    long both = 0;
    long one = 0;
    for (int i = 0; i < n; ++i) {
        const double x = -1.0 + (i + 0.5) * step;
        for (int j = 0; j < n; ++j) {
            const double y = -1.0 + (j + 0.5) * step;
            if (!inside(x, y)) continue;
            ++one;
            if (inside(x - 2.0 * nu, y)) ++both;
        }
    }
    return static_cast<double>(both) / static_cast<double>(one);
}

}  // namespace

struct RerCase {
    double q;
    double obscuration;
    double mtf_nyquist;
    double rer;
};

class IdealOpticsTest : public ::testing::TestWithParam<RerCase> {};

TEST_P(IdealOpticsTest, MatchesDomainTable) {
    const RerCase c = GetParam();
    const SensorModel m = SensorModel::physical(ideal(c.q, c.obscuration));
    EXPECT_NEAR(m.figures().q, c.q, 1e-12);
    EXPECT_NEAR(m.figures().x.mtf_nyquist, c.mtf_nyquist, 0.005) << "Q " << c.q;
    EXPECT_NEAR(m.figures().x.rer, c.rer, 0.005) << "Q " << c.q;
    // No smear or jitter: both axes equal.
    EXPECT_NEAR(m.figures().y.rer, m.figures().x.rer, 1e-12);
    // An unsharpened incoherent system has no overshoot worth the name.
    EXPECT_LE(m.figures().x.overshoot_h, 1.0 + 1e-3);
}

// R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010 (signed transfer function).
INSTANTIATE_TEST_SUITE_P(DomainSection7, IdealOpticsTest,
                         ::testing::Values(RerCase{0.5, 0.0, 0.436, 0.755}, RerCase{1.0, 0.0, 0.249, 0.600},
                                           RerCase{1.5, 0.0, 0.092, 0.475}, RerCase{2.0, 0.0, 0.000, 0.383},
                                           RerCase{1.0, 0.2, 0.234, 0.568}, RerCase{1.5, 0.2, 0.096, 0.450}));

TEST(SensorEdge, ModulusConventionMatchesPyBsmBelowQ1) {
    // R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE Press, 2010: Q 0.5 ideal optics give RER 0.755
    // signed, 0.739 with |OTF|; equal for Q >= 1.
    const SensorModel half = SensorModel::physical(ideal(0.5));
    const TransferFunction1d t = [&](double f) { return half.transfer(f, 0.0); };
    const double f_max = half.frequency_limit_cyc_per_px();
    EXPECT_NEAR(edge_figures(t, f_max, EdgeConvention::modulus).rer, 0.739, 0.005);
    EXPECT_NEAR(edge_figures(t, f_max, EdgeConvention::signed_transfer).rer, 0.755, 0.005);
    const SensorModel one = SensorModel::physical(ideal(1.0));
    const TransferFunction1d t1 = [&](double f) { return one.transfer(f, 0.0); };
    EXPECT_NEAR(edge_figures(t1, 1.0, EdgeConvention::modulus).rer, edge_figures(t1, 1.0).rer, 1e-12);
}

TEST(SensorMtf, AnnularOtfNormalisedAndMatchesClearAperture) {
    EXPECT_NEAR(annular_aperture_otf(0.0, 0.0), 1.0, 1e-12);
    EXPECT_NEAR(annular_aperture_otf(0.0, 0.3), 1.0, 1e-12);
    EXPECT_NEAR(annular_aperture_otf(1e-7, 0.3), 1.0, 1e-6);
    EXPECT_EQ(annular_aperture_otf(1.0, 0.2), 0.0);
    EXPECT_EQ(annular_aperture_otf(1.5, 0.0), 0.0);
    for (double nu : {0.1, 0.3, 0.5, 0.7, 0.9}) {
        const double clear = (2.0 / pi) * (std::acos(nu) - nu * std::sqrt(1.0 - nu * nu));
        EXPECT_NEAR(annular_aperture_otf(nu, 0.0), clear, 1e-12);
        EXPECT_NEAR(annular_aperture_otf(nu, 1e-6), clear, 1e-6);
    }
    // Continuous across the piecewise boundaries.
    for (double eps : {0.2, 0.35}) {
        for (double b : {eps, 0.5 * (1 - eps), 0.5 * (1 + eps)}) {
            EXPECT_NEAR(annular_aperture_otf(b - 1e-9, eps), annular_aperture_otf(b + 1e-9, eps), 1e-6)
                << eps << " " << b;
        }
    }
}

TEST(SensorMtf, AnnularOtfMatchesNumericPupilAutocorrelation) {
    for (double eps : {0.2, 0.4}) {
        for (double nu : {0.05, 0.15, 0.3, 0.45, 0.6, 0.8}) {
            EXPECT_NEAR(annular_aperture_otf(nu, eps), annulus_overlap_numeric(nu, eps), 4e-3) << eps << " " << nu;
        }
    }
}

TEST(SensorMtf, ComponentsAtKnownPoints) {
    EXPECT_DOUBLE_EQ(sinc(0.0), 1.0);
    EXPECT_NEAR(sinc(0.5), 2.0 / pi, 1e-15);
    EXPECT_NEAR(sinc(1.0), 0.0, 1e-15);
    EXPECT_LT(sinc(1.5), 0.0);  // signed
    EXPECT_NEAR(gaussian_transfer(0.5, 1.0), std::exp(-pi * pi / 2.0), 1e-15);
    EXPECT_DOUBLE_EQ(defocus_transfer(0.0, 2.0), 1.0);
    // First zero of 2 J1(x)/x at x = 3.8317: f = 3.8317 / (pi d).
    EXPECT_NEAR(defocus_transfer(3.831705970 / (pi * 2.0), 2.0), 0.0, 1e-8);
    EXPECT_DOUBLE_EQ(wavefront_error_transfer(0.0, 0.1), 1.0);
    EXPECT_NEAR(wavefront_error_transfer(0.5, 0.09), 1.0 - 0.25, 1e-12);
}

TEST(SensorMtf, SystemIsProductOfParts) {
    SensorDescription d = ideal(1.2, 0.25);
    d.jitter_sigma_px = 0.2;
    d.smear_px = 0.5;
    d.defocus_blur_diameter_px = 0.4;
    d.wavefront_error_rms_waves = 0.05;
    d.fill_factor = 0.8;
    const SensorModel m = SensorModel::physical(d);
    const auto f_pre = m.transfer_function(MtfPart::pre_detector);
    for (double fx : {0.0, 0.13, 0.5, 0.77}) {
        for (double fy : {0.0, 0.21, 0.5}) {
            const double sys = m.transfer(fx, fy, MtfPart::system);
            EXPECT_NEAR(sys, m.transfer(fx, fy, MtfPart::pre_detector) * m.transfer(fx, fy, MtfPart::detector), 1e-14);
            // Second formulation: the pre-detector chain composed by hand from its parts (optics at
            // nu = rho Q with obscuration 0.25, wavefront error 0.05 waves, defocus 0.4 px, jitter
            // 0.2 px, smear 0.5 px along y only), read through the transfer_function accessor.
            const double rho = std::hypot(fx, fy);
            const double nu = rho * 1.2;
            const double hand = nu >= 1.0
                                    ? 0.0
                                    : annular_aperture_otf(nu, 0.25) * wavefront_error_transfer(nu, 0.05) *
                                          defocus_transfer(rho, 0.4) * gaussian_transfer(rho, 0.2) * sinc(fy * 0.5);
            EXPECT_NEAR(f_pre(fx, fy), hand, 1e-12) << fx << " " << fy;
            EXPECT_NEAR(m.mtf(fx, fy), std::abs(sys), 0.0);
        }
    }
    const double a = std::sqrt(0.8);
    EXPECT_NEAR(m.transfer(0.3, 0.0, MtfPart::detector), sinc(0.3 * a), 1e-14);
    // Hand value for the optics alone: an unobscured, aberration-free circular aperture has the OTF
    // (2/pi)(acos nu - nu sqrt(1 - nu^2)) at nu = f Q; at f = 0.3 cy/px, Q = 1.2: nu = 0.36,
    // python3: (2/math.pi)*(math.acos(0.36)-0.36*math.sqrt(1-0.36**2)) = 0.5469866...
    const SensorModel clear = SensorModel::physical(ideal(1.2, 0.0));
    const double nu = 0.36;
    const double circ = (2.0 / pi) * (std::acos(nu) - nu * std::sqrt(1.0 - nu * nu));
    EXPECT_NEAR(clear.transfer(0.3, 0.0, MtfPart::optics), circ, 1e-9);
    EXPECT_NEAR(clear.transfer(0.0, 0.3, MtfPart::pre_detector), circ, 1e-9);
    // Smear acts along y only: x is unaffected, y loses RER.
    EXPECT_LT(m.figures().y.rer, m.figures().x.rer);
    EXPECT_EQ(m.transfer(1.0 / 1.2 + 1e-6, 0.0), 0.0);  // beyond the optical cutoff 1/Q
    EXPECT_FALSE(m.gaussian_sigma_px().has_value());
    EXPECT_DOUBLE_EQ(m.detector_noise().snr, 50.0);
    EXPECT_DOUBLE_EQ(m.detector_noise().full_well_e, 50000.0);
}

TEST(SensorEdge, NumericEdgeMatchesAnalyticGaussianBox) {
    for (double sigma : {0.3, 0.5, 0.8}) {
        const TransferFunction1d t = [sigma](double f) { return gaussian_transfer(f, sigma) * sinc(f); };
        const double f_max = std::sqrt(std::log(1e12) / (2.0 * pi * pi * sigma * sigma));
        for (double x : {-1.0, -0.5, 0.0, 0.25, 0.5, 1.25, 2.0}) {
            EXPECT_NEAR(edge_response(t, f_max, x), gaussian_box_edge_response(sigma, x), 1e-4) << sigma << " " << x;
        }
    }
    EXPECT_NEAR(gaussian_box_edge_response(0.0, 0.0), 0.5, 0.0);
    EXPECT_NEAR(gaussian_box_edge_response(0.0, 0.5), 1.0, 0.0);
    EXPECT_NEAR(gaussian_box_edge_response(0.7, 0.0), 0.5, 1e-12);
}

TEST(SensorSimple, SigmaFromMtfNyquistRoundTrip) {
    for (double m : {0.05, 0.1, 0.2, 0.3, 0.5, 0.6}) {
        const double s = sigma_from_mtf_nyquist(m);
        EXPECT_NEAR(gaussian_transfer(0.5, s) * sinc(0.5), m, 1e-12);
    }
    EXPECT_NEAR(sigma_from_mtf_nyquist(2.0 / pi), 0.0, 1e-7);
    EXPECT_THROW(sigma_from_mtf_nyquist(0.0), satiq::Error);
    EXPECT_THROW(sigma_from_mtf_nyquist(0.7), satiq::Error);
}

TEST(SensorSimple, ModelFiguresAndParts) {
    SimpleSensorSpec s;
    s.gsd_m = 3.0;
    s.mtf_nyquist = 0.2;
    s.snr = 20.0;
    const SensorModel m = SensorModel::simple(s);
    ASSERT_TRUE(m.gaussian_sigma_px().has_value());
    const double sigma = *m.gaussian_sigma_px();
    EXPECT_NEAR(sigma, sigma_from_mtf_nyquist(0.2), 1e-15);
    EXPECT_DOUBLE_EQ(m.gsd_m(), 3.0);
    EXPECT_NEAR(m.figures().x.mtf_nyquist, 0.2, 1e-12);
    EXPECT_NEAR(m.transfer(0.3, 0.4, MtfPart::pre_detector), gaussian_transfer(0.5, sigma), 1e-14);
    EXPECT_NEAR(m.transfer(0.3, 0.4), gaussian_transfer(0.5, sigma) * sinc(0.3) * sinc(0.4), 1e-14);
    // Independent values for the Gaussian (sigma) * pixel box edge, computed here with std::erf only:
    // sigma from exp(-2 pi^2 s^2 / 4) * sinc(0.5) = 0.2 with sinc(0.5) = 2/pi:
    //   s = sqrt(-2 ln(0.2 pi / 2)) / pi   (python3: math.sqrt(-2*math.log(0.1*math.pi))/math.pi = 0.48566...)
    const double s_hand = std::sqrt(-2.0 * std::log(0.1 * pi)) / pi;
    EXPECT_NEAR(sigma, s_hand, 1e-12);
    // ER(x) = int_{x-1/2}^{x+1/2} Phi(t/s) dt = F(x+1/2) - F(x-1/2), F(t) = t Phi(t/s) + s phi(t/s).
    // RER = ER(1/2) - ER(-1/2) = erf(1/(s sqrt 2)) + 2 s (phi(1/s) - phi(0)).
    const auto Phi = [](double z) { return 0.5 * (1.0 + std::erf(z / std::sqrt(2.0))); };
    const auto phi = [](double z) { return std::exp(-0.5 * z * z) / std::sqrt(2.0 * pi); };
    const auto F = [&](double u) { return u * Phi(u / s_hand) + s_hand * phi(u / s_hand); };
    const auto er = [&](double x) { return F(x + 0.5) - F(x - 0.5); };
    const double rer_hand = std::erf(1.0 / (s_hand * std::sqrt(2.0))) + 2.0 * s_hand * (phi(1.0 / s_hand) - phi(0.0));
    EXPECT_NEAR(er(0.5) - er(-0.5), rer_hand, 1e-12);  // the two forms of the same closed form agree
    EXPECT_NEAR(m.figures().x.rer, rer_hand, 1e-9);
    // The edge rises monotonically, so H = ER(+1.25) (Leachtenauer et al. 1997).
    EXPECT_NEAR(m.figures().x.overshoot_h, er(1.25), 1e-9);
    // MTF50: root of exp(-2 pi^2 s^2 f^2) sin(pi f)/(pi f) = 0.5, by bisection here.
    {
        const auto mtf = [&](double f) {
            return std::exp(-2.0 * pi * pi * s_hand * s_hand * f * f) * std::sin(pi * f) / (pi * f);
        };
        double lo = 1e-9, hi = 1.0;
        for (int it = 0; it < 80; ++it) {
            const double mid = 0.5 * (lo + hi);
            (mtf(mid) > 0.5 ? lo : hi) = mid;
        }
        EXPECT_NEAR(m.figures().x.mtf50_cyc_per_px, 0.5 * (lo + hi), 1e-6);
    }
    // FWHM of the LSF(x) = Phi((x+1/2)/s) - Phi((x-1/2)/s), by bisection here.
    {
        const auto lsf = [&](double x) { return Phi((x + 0.5) / s_hand) - Phi((x - 0.5) / s_hand); };
        const double half = 0.5 * lsf(0.0);
        double lo = 0.0, hi = 5.0;
        for (int it = 0; it < 80; ++it) {
            const double mid = 0.5 * (lo + hi);
            (lsf(mid) > half ? lo : hi) = mid;
        }
        EXPECT_NEAR(m.figures().x.fwhm_px, lo + hi, 1e-6);
    }

    const DetectorNoise dn = m.detector_noise();
    EXPECT_DOUBLE_EQ(dn.snr, 20.0);
    EXPECT_DOUBLE_EQ(dn.full_well_e, s.full_well_e);
    EXPECT_EQ(dn.bits, s.bits);

    SimpleSensorSpec bad = s;
    bad.sigma_px = 0.5;  // both given
    EXPECT_THROW(SensorModel::simple(bad), satiq::Error);
    bad = s;
    bad.gsd_m = -1.0;
    EXPECT_THROW(SensorModel::simple(bad), satiq::Error);
}

TEST(SensorEdge, PixelOnlyFwhmIsOnePixel) {
    SimpleSensorSpec s;
    s.gsd_m = 1.0;
    s.sigma_px = 0.0;
    s.snr = 50.0;
    const SensorModel m = SensorModel::simple(s);
    EXPECT_NEAR(m.figures().x.fwhm_px, 1.0, 1e-6);
    EXPECT_NEAR(m.figures().x.rer, 1.0, 1e-12);
}

TEST(SensorGeometry, NadirAndRoundTrip) {
    const ViewGeometry n = view_from_off_nadir(617000.0, 0.0);
    EXPECT_NEAR(n.slant_range_m, 617000.0, 1e-6);
    EXPECT_NEAR(n.elevation_deg, 90.0, 1e-9);
    EXPECT_EQ(view_from_elevation(617000.0, 90.0).off_nadir_deg, 0.0);  // exact, not 3e-15
    for (double off : {5.0, 20.0, 30.0, 45.0}) {
        const ViewGeometry g = view_from_off_nadir(500000.0, off);
        const ViewGeometry back = view_from_elevation(500000.0, g.elevation_deg);
        EXPECT_NEAR(back.off_nadir_deg, off, 1e-9);
        EXPECT_NEAR(back.slant_range_m, g.slant_range_m, 1e-6);
        // Law of cosines in the Earth-centre / satellite / target triangle.
        const double r = earth_radius_m;
        const double lam = g.earth_central_angle_deg * pi / 180.0;
        const double d = std::sqrt(r * r + (r + 500000.0) * (r + 500000.0) - 2.0 * r * (r + 500000.0) * std::cos(lam));
        EXPECT_NEAR(g.slant_range_m, d, 1e-3);
        EXPECT_NEAR(g.off_nadir_deg + g.elevation_deg + g.earth_central_angle_deg, 90.0, 1e-9);
    }
    EXPECT_THROW(view_from_off_nadir(500000.0, 80.0), satiq::Error);  // beyond the horizon (~68 deg)
    EXPECT_THROW(view_from_elevation(500000.0, 0.0), satiq::Error);
    EXPECT_THROW(view_from_elevation(-1.0, 45.0), satiq::Error);
}

TEST(SensorGeometry, GsdDefinitions) {
    SensorDescription d = ideal(1.0);
    d.elevation_deg = 45.0;
    const SensorModel m = SensorModel::physical(d);
    const SensorFigures& f = m.figures();
    EXPECT_NEAR(f.gsd_normal_m, d.detector_pitch_m / d.focal_length_m * f.slant_range_m, 1e-12);
    const double s = std::sin(45.0 * pi / 180.0);
    EXPECT_NEAR(f.gsd_ground_m, f.gsd_normal_m / std::sqrt(s), 1e-12);
    EXPECT_NEAR(f.gsd_weighted_m, f.gsd_normal_m / std::pow(s, 0.25), 1e-12);
    EXPECT_NEAR(f.gsd_ground_along_look_m, f.gsd_normal_m / s, 1e-12);
    EXPECT_NEAR(std::sqrt(f.gsd_ground_along_look_m * f.gsd_ground_across_m), f.gsd_ground_m, 1e-12);
    EXPECT_DOUBLE_EQ(m.gsd_m(), f.gsd_ground_m);
}

TEST(SensorValidation, RejectsBadFieldsNamingThem) {
    auto expect_msg = [](const SensorDescription& d, const std::string& field) {
        try {
            SensorModel::physical(d);
            ADD_FAILURE() << "no throw for " << field;
        } catch (const satiq::Error& e) {
            EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
        }
    };
    SensorDescription d = ideal(1.0);
    d.aperture_diameter_m = -1.0;
    expect_msg(d, "aperture_diameter_m");
    d = ideal(1.0);
    d.focal_length_m = 0.0;
    expect_msg(d, "focal_length_m");
    d = ideal(1.0);
    d.detector_pitch_m = 0.0;
    expect_msg(d, "detector_pitch_m");
    d = ideal(1.0);
    d.altitude_m = -5.0;
    expect_msg(d, "altitude_m");
    d = ideal(1.0);
    d.snr = 0.0;
    expect_msg(d, "snr");
    d = ideal(1.0);
    d.fill_factor = 1.5;
    expect_msg(d, "fill_factor");
    d = ideal(1.0);
    d.central_obscuration_ratio = 1.0;
    expect_msg(d, "central_obscuration_ratio");
    d = ideal(1.0);
    d.off_nadir_deg = 10.0;
    d.elevation_deg = 80.0;
    expect_msg(d, "off_nadir_deg");
    d = ideal(1.0);
    d.wavefront_error_rms_waves = 0.2;
    expect_msg(d, "wavefront_error_rms_waves");
    d = ideal(1.0);
    d.focal_length_m = 0.2;  // f/0.4: no optics in air is that fast
    expect_msg(d, "faster than f/0.5");
}

TEST(SensorValidation, ImplausibleFNumberIsWarned) {
    auto f_warning = [](const SensorDescription& d) {
        const SensorModel m = SensorModel::physical(d);
        for (const std::string& w : m.figures().warnings)
            if (w.find("outside the f/1 to f/40") != std::string::npos) return true;
        return false;
    };
    SensorDescription d = ideal(1.0);  // f/20
    EXPECT_FALSE(f_warning(d));
    d.aperture_diameter_m = 0.1;  // f/100
    EXPECT_TRUE(f_warning(d));
    d.aperture_diameter_m = 12.0;  // f/0.83
    EXPECT_TRUE(f_warning(d));
}

TEST(SensorRadiometry, SnrFromModelIsShotNoiseLimited) {
    SensorDescription d = ideal(1.0);
    d.snr.reset();
    d.read_noise_e = 0.0;
    d.full_well_e = 1e9;
    d.bits = 32;
    Radiometry r;
    r.integration_time_s = 1e-3;
    d.radiometry = r;
    const SensorModel m1 = SensorModel::physical(d);
    EXPECT_TRUE(m1.figures().snr_from_radiometry);
    EXPECT_GT(m1.figures().snr, 0.0);
    EXPECT_GT(m1.figures().signal_15_e, m1.figures().signal_07_e);
    d.radiometry->integration_time_s = 4e-3;
    const SensorModel m4 = SensorModel::physical(d);
    EXPECT_NEAR(m4.figures().snr / m1.figures().snr, 2.0, 1e-6);  // SNR ~ sqrt(t)
    d.full_well_e = 10.0;
    EXPECT_FALSE(SensorModel::physical(d).figures().warnings.empty());  // saturated
}

TEST(SensorPresets, AllPresetsLoadWithProvenanceOnEveryFigure) {
    const auto& presets = sensor_presets();
    const std::set<std::string> expected = {"worldview-3", "worldview-2", "pleiades",      "kompsat-3a",  "skysat",
                                            "superdove",   "sentinel-2",  "landsat-8-pan", "malligyong-1"};
    std::set<std::string> names;
    for (const auto& p : presets)
        names.insert(p.name);
    EXPECT_EQ(names, expected);
    const std::vector<std::string> figures = {"altitude_m",
                                              "gsd_nadir_m",
                                              "aperture_diameter_m",
                                              "central_obscuration_ratio",
                                              "focal_length_m",
                                              "detector_pitch_m",
                                              "fill_factor",
                                              "wavelength_m",
                                              "jitter_sigma_px",
                                              "smear_px",
                                              "defocus_blur_diameter_px",
                                              "wavefront_error_rms_waves",
                                              "full_well_e",
                                              "read_noise_e",
                                              "bits",
                                              "snr"};
    for (const auto& p : presets) {
        for (const auto& f : figures) {
            auto it = p.provenance.find(f);
            ASSERT_NE(it, p.provenance.end()) << p.name << " " << f;
            EXPECT_FALSE(it->second.text.empty()) << p.name << " " << f;
        }
        EXPECT_EQ(p.provenance.size(), figures.size()) << p.name;
        // The model's nadir GSD reproduces the published one (KOMPSAT-3A's 0.55 m is rounded: 0.537).
        const SensorModel m = SensorModel::physical(p.description);
        EXPECT_NEAR(m.figures().gsd_normal_m / p.gsd_nadir_reported_m, 1.0, 0.03) << p.name;
        EXPECT_GT(m.figures().x.rer, 0.0);
        EXPECT_FALSE(p.notes.empty());
    }
}

TEST(SensorPresets, LookupAndUnknownNameListsPresets) {
    EXPECT_EQ(find_sensor_preset("WorldView-3").name, "worldview-3");
    EXPECT_EQ(find_sensor_preset("worldview3").name, "worldview-3");
    EXPECT_EQ(find_sensor_preset("KOMPSAT_3A").name, "kompsat-3a");
    try {
        find_sensor_preset("hubble");
        ADD_FAILURE();
    } catch (const satiq::Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("hubble"), std::string::npos);
        for (const auto& n : sensor_preset_names())
            EXPECT_NE(msg.find(n), std::string::npos) << n;
    }
}

TEST(SensorPresets, ParserRejectsMissingProvenance) {
    const std::string& base = sensor_presets_json();
    EXPECT_NO_THROW(parse_sensor_presets(base));
    const std::string doc = R"({"sensors":[{"name":"x","figures":{"altitude_m":{"value":1}}}]})";
    EXPECT_THROW(parse_sensor_presets(doc), satiq::Error);
    const std::string two =
        R"({"sensors":[{"name":"x","figures":{"altitude_m":{"value":1,"source":"a","assumed":"b"}}}]})";
    EXPECT_THROW(parse_sensor_presets(two), satiq::Error);
    EXPECT_THROW(parse_sensor_presets("{not json"), satiq::Error);
}
