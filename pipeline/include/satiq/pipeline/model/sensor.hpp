#pragma once
/// Sensor model: a physical (or simple) description of an imaging satellite, its derived figures
/// (slant range, GSD in the three GIQE definitions, Q, system MTF, RER, overshoot, SNR) and the
/// system transfer function split into "before the detector" and "detector" parts.
///
/// Conventions
///  - Frequencies are in cycles per pixel (cy/px) of the modelled sensor; Nyquist is 0.5 cy/px.
///  - Axes: x = cross-scan (image columns), y = along-scan (image rows, the flight direction).
///    Linear smear acts along y only.
///  - transfer() returns the SIGNED real transfer function (every component modelled here is real
///    and even: the phase is 0 or pi). mtf() is its modulus. Edge responses are computed from the
///    signed transfer function, which gives the physical edge (R. D. Fiete, Modeling the Imaging Chain of Digital
///    Cameras, SPIE Press, 2010); pyBSM integrates |OTF| instead, the two agree for Q >= 1.
///  - Everything is pure, deterministic and thread-safe (SensorModel is an immutable value).
///  - Invalid parameters throw satiq::Error naming the field ("sensor: aperture_diameter_m must be > 0").
///
/// For degradation (the degrade command): take the model of the TARGET sensor and use
///  - gsd_m()                               the target pixel size on the ground, metres;
///  - transfer(fx, fy, MtfPart::pre_detector) (or transfer_function(MtfPart::pre_detector)) for
///    optics (diffraction, wavefront error, defocus) x jitter x smear, in cycles per TARGET pixel;
///    the detector footprint (MtfPart::detector, sinc(fx a) sinc(fy a) with a = sqrt(fill_factor))
///    is NOT in it, because degrade integrates over the target pixel area itself;
///  - gaussian_sigma_px() when the pre-detector part is a Gaussian (the simple form): its sigma in
///    target pixels, so degrade can use a separable Gaussian instead of the generic MTF.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "satiq/kernels/optics.hpp"

namespace satiq::sensor {

/// Mean Earth radius (IUGG mean radius R1 = 6371.0088 km) used for the spherical-Earth geometry.
inline constexpr double earth_radius_m = 6371008.8;

/// Optional radiometric model giving the GIQE SNR from first principles (see signal_electrons()).
/// Defaults are documented assumptions for a visible pan band, not measurements.
struct Radiometry {
    double integration_time_s = 0.0;           ///< total effective exposure incl. TDI stages, s (required)
    double band_width_um = 0.35;               ///< spectral band width, micrometres
    double optics_transmittance = 0.8;         ///< optical throughput (excluding the obscuration)
    double quantum_efficiency = 0.6;           ///< electrons per photon, band average
    double solar_zenith_deg = 30.0;            ///< sun zenith angle at the target
    double solar_irradiance_w_m2_um = 1600.0;  ///< band-mean exo-atmospheric solar spectral irradiance
    double atmospheric_transmittance = 0.8;    ///< sun -> ground -> sensor product, band average
    double path_radiance_w_m2_sr_um = 10.0;    ///< atmospheric path radiance added to every target
};

/// The fastest F-number any imaging optics in air can have: F = 1 / (2 NA) for an aplanatic system
/// and the numerical aperture NA = n sin(theta) < 1 (Born & Wolf, Principles of Optics, 7th ed.,
/// §4.5). SensorDescription::validate refuses a faster one.
inline constexpr double kFastestFNumber = 0.5;

/// Physical description of a sensor. Lengths in metres; detector figures per pixel.
struct SensorDescription {
    std::string name = "custom";
    double altitude_m = 0.0;  ///< orbit altitude above the spherical Earth
    /// View geometry: give at most one; both absent = nadir. off_nadir_deg is measured at the
    /// satellite from the nadir direction, elevation_deg at the target from the local horizon.
    std::optional<double> off_nadir_deg;
    std::optional<double> elevation_deg;
    double aperture_diameter_m = 0.0;        ///< entrance pupil (primary mirror) diameter
    double central_obscuration_ratio = 0.0;  ///< secondary / primary diameter, in [0, 1)
    double focal_length_m = 0.0;
    double detector_pitch_m = 0.0;           ///< square detector pitch
    double fill_factor = 1.0;                ///< AREAL fill factor in (0, 1]; active width = pitch*sqrt(fill)
    double wavelength_m = 0.0;               ///< band centre wavelength
    double jitter_sigma_px = 0.0;            ///< RMS line-of-sight jitter per axis, in detector pixels
    double smear_px = 0.0;                   ///< along-scan (y) linear smear over the integration, pixels
    double defocus_blur_diameter_px = 0.0;   ///< geometric blur-circle diameter, pixels (0 = in focus)
    double wavefront_error_rms_waves = 0.0;  ///< RMS wavefront error, waves, in [0, 0.18)
    double full_well_e = 0.0;                ///< full-well capacity, electrons
    double read_noise_e = 0.0;               ///< read noise, electrons RMS (0 allowed)
    int bits = 0;                            ///< quantisation bits
    /// GIQE SNR (15 % vs 7 % reflectance difference over noise). When absent, `radiometry` must be set.
    std::optional<double> snr;
    std::optional<Radiometry> radiometry;

    /// Throws satiq::Error naming the first invalid field.
    void validate() const;
};

/// Simple form: target GSD, a Gaussian pre-detector PSF (sigma in pixels, or solved from a requested
/// MTF at Nyquist) sampled by a 100 %-fill square pixel, and an SNR. MTF(f) = exp(-2 pi^2 s^2 f^2) sinc(f).
struct SimpleSensorSpec {
    double gsd_m = 0.0;
    std::optional<double> mtf_nyquist;  ///< in (0, 2/pi): sigma is solved from it
    std::optional<double> sigma_px;     ///< >= 0
    double snr = 0.0;
    double full_well_e = 20000.0;  ///< used only by noise simulation downstream (assumed default)
    double read_noise_e = 10.0;    ///< idem
    int bits = 11;                 ///< idem
};

/// Which part of the system transfer function to evaluate.
enum class MtfPart {
    system,        ///< everything: pre_detector x detector
    pre_detector,  ///< optics (diffraction, wavefront error, defocus) x jitter x smear
    detector,      ///< detector footprint sinc(fx a) sinc(fy a), a = sqrt(fill_factor)
    optics,        ///< diffraction x wavefront error x defocus only (reporting)
};

/// Signed transfer function of two frequencies in cycles per pixel.
using TransferFunction = std::function<double(double fx_cyc_per_px, double fy_cyc_per_px)>;
/// Signed 1-D transfer function along one axis, cycles per pixel.
using TransferFunction1d = std::function<double(double f_cyc_per_px)>;

/// Edge figures along one axis, derived from the transfer function.
struct EdgeFigures {
    double mtf_nyquist = 0.0;       ///< |T(0.5)|
    double mtf50_cyc_per_px = 0.0;  ///< first frequency where T falls to 0.5 (0 if never above)
    double rer = 0.0;               ///< ER(+0.5) - ER(-0.5)
    double overshoot_h = 0.0;       ///< max ER over +1..+3 px (0.25 steps) or ER(1.25) if monotonic
    double fwhm_px = 0.0;           ///< full width at half maximum of the LSF, pixels
};

/// Derived figures of a model.
struct SensorFigures {
    bool simple = false;
    // geometry (physical form only; simple form: nadir, slant_range 0)
    double off_nadir_deg = 0.0;
    double elevation_deg = 90.0;
    double slant_range_m = 0.0;
    double earth_central_angle_deg = 0.0;
    double gsd_normal_m = 0.0;             ///< pitch / focal * slant range (GIQE 3)
    double gsd_ground_across_m = 0.0;      ///< ground GSD perpendicular to the look direction
    double gsd_ground_along_look_m = 0.0;  ///< ground GSD along the look direction = normal / sin(elev)
    double gsd_ground_m = 0.0;             ///< geometric mean ground-plane GSD = normal / sqrt(sin elev) (GIQE 4)
    double gsd_weighted_m = 0.0;           ///< normal / sin(elev)^(1/4) (GIQE 5)
    // optics
    double f_number = 0.0;
    double q = 0.0;                          ///< lambda F# / pitch (0 in the simple form: not defined)
    double optical_cutoff_cyc_per_px = 0.0;  ///< 1/Q (0 = none)
    std::optional<double> gaussian_sigma_px;
    // edge figures per axis (x cross-scan, y along-scan) from the signed system transfer function
    EdgeFigures x;
    EdgeFigures y;
    // radiometry
    double snr = 0.0;
    bool snr_from_radiometry = false;
    double signal_07_e = 0.0;  ///< electrons at 7 % reflectance (radiometric model only)
    double signal_15_e = 0.0;  ///< electrons at 15 % reflectance (radiometric model only)
    double noise_15_e = 0.0;   ///< total noise at the 15 % level, electrons RMS
    std::vector<std::string> warnings;
};

/// Noise figures for simulation (degrade): GIQE SNR and the detector's electrons and bits.
struct DetectorNoise {
    double snr = 0.0;
    double full_well_e = 0.0;
    double read_noise_e = 0.0;
    int bits = 0;
};

class SensorModel {
public:
    /// Validates `d` and builds the model (computes the derived figures once, a few ms).
    static SensorModel physical(const SensorDescription& d);
    /// Validates `s` and builds the simple Gaussian model.
    static SensorModel simple(const SimpleSensorSpec& s);

    bool is_simple() const { return m_simple; }
    const SensorDescription& description() const { return m_desc; }        ///< physical form only
    const SimpleSensorSpec& simple_spec() const { return m_simple_spec; }  ///< simple form only
    const SensorFigures& figures() const { return m_figures; }

    /// SNR (given or from the radiometric model) and detector figures, whichever form.
    DetectorNoise detector_noise() const;
    /// GSD of the product pixel, metres: the geometric-mean ground-plane GSD (simple form: gsd_m).
    double gsd_m() const;
    /// Signed transfer function at (fx, fy) cycles per pixel of this sensor.
    double transfer(double fx_cyc_per_px, double fy_cyc_per_px, MtfPart part = MtfPart::system) const;
    /// |transfer|.
    double mtf(double fx_cyc_per_px, double fy_cyc_per_px, MtfPart part = MtfPart::system) const;
    /// A self-contained callable (holds a copy of the model).
    TransferFunction transfer_function(MtfPart part = MtfPart::system) const;
    /// Sigma in pixels when the pre-detector part is exactly Gaussian (simple form), else nullopt.
    std::optional<double> gaussian_sigma_px() const;
    /// Highest frequency (cy/px) beyond which the system transfer function is zero or negligible
    /// (< 1e-9 relative): the optical cutoff, or the Gaussian's effective limit.
    double frequency_limit_cyc_per_px() const;

private:
    SensorModel() = default;
    void compute_figures();

    bool m_simple = false;
    SensorDescription m_desc;
    SimpleSensorSpec m_simple_spec;
    double m_q = 0.0;
    double m_sigma_px = 0.0;
    SensorFigures m_figures;
};

// ---- components (all signed; frequency in cycles per pixel; cited in sensor.cpp) ----

/// Diffraction OTF of a circular aperture with central obscuration ratio `eps` (O'Neill 1956),
/// at normalised frequency nu = f / cutoff (0 beyond 1).
double annular_aperture_otf(double nu, double eps);
/// sin(pi x)/(pi x) and the Gaussian transfer function exp(-2 pi^2 sigma^2 f^2): the one
/// definition in satiq/kernels/optics.hpp.
using satiq::gaussian_transfer;
using satiq::sinc;
/// Geometric defocus (uniform blur circle of diameter d px): 2 J1(pi d f)/(pi d f).
double defocus_transfer(double f_cyc_per_px, double blur_diameter_px);
/// Aberration transfer factor for RMS wavefront error w (waves) at nu = f / cutoff (Shannon 1997).
double wavefront_error_transfer(double nu, double wfe_rms_waves);

// ---- spherical-Earth geometry ----

struct ViewGeometry {
    double off_nadir_deg = 0.0;
    double elevation_deg = 90.0;
    double slant_range_m = 0.0;
    double earth_central_angle_deg = 0.0;
};
/// From the off-nadir angle at the satellite (must see the Earth: below the horizon angle).
ViewGeometry view_from_off_nadir(double altitude_m, double off_nadir_deg);
/// From the target elevation angle in (0, 90].
ViewGeometry view_from_elevation(double altitude_m, double elevation_deg);

// ---- edge response from a transfer function ----

/// ER(x) = 0.5 + (1/pi) int_0^f_max T(f)/f sin(2 pi f x) df (R. D. Fiete, Modeling the Imaging Chain of Digital
/// Cameras, SPIE Press, 2010), by composite Simpson on a fixed grid (step <= 2e-4 cy/px, at least 2000 intervals), with
/// the f -> 0 limit 2 pi x T(0). Accurate to about 1e-5 for |x| <= 3 px (checked against the analytic Gaussian-box
/// edge). T must be zero (or negligible) beyond f_max.
double edge_response(const TransferFunction1d& t, double f_max_cyc_per_px, double x_px);
/// Which transfer function the edge integral uses.
enum class EdgeConvention {
    signed_transfer,  ///< the physical edge (default; R. D. Fiete, Modeling the Imaging Chain of Digital Cameras, SPIE
                      ///< Press, 2010)
    modulus,          ///< |T| as pyBSM does; equal to signed for Q >= 1 (Q 0.5 ideal: RER 0.739 vs 0.755)
};
/// All edge figures of a 1-D transfer function (RER, H, MTF at Nyquist, MTF50, FWHM).
EdgeFigures edge_figures(const TransferFunction1d& t, double f_max_cyc_per_px,
                         EdgeConvention convention = EdgeConvention::signed_transfer);
/// Analytic edge of a Gaussian PSF (sigma px) integrated over a unit square pixel:
/// ER(x) = int_{x-1/2}^{x+1/2} Phi(t/sigma) dt. sigma = 0 gives the pure box edge.
double gaussian_box_edge_response(double sigma_px, double x_px);
/// Sigma (px) such that exp(-2 pi^2 s^2 0.25) sinc(0.5) = mtf_nyquist; mtf_nyquist in (0, 2/pi].
double sigma_from_mtf_nyquist(double mtf_nyquist);

// ---- presets ----

/// Provenance of one preset figure: exactly one kind, with its text.
struct FigureNote {
    enum class Kind { source, assumed, derived };
    Kind kind = Kind::assumed;
    std::string text;
};
const char* to_string(FigureNote::Kind k);

struct SensorPreset {
    std::string name;          ///< lookup key, e.g. "worldview-3"
    std::string display_name;  ///< e.g. "WorldView-3"
    std::string notes;
    double gsd_nadir_reported_m = 0.0;             ///< the published nadir GSD (for cross-checking the model)
    SensorDescription description;                 ///< nadir view
    std::map<std::string, FigureNote> provenance;  ///< figure name (JSON key) -> note
};

/// Parses a presets document (format of pipeline/data/sensors.json). Throws satiq::Error when a
/// figure lacks a value or a source/assumed/derived note, or a required figure is missing.
std::vector<SensorPreset> parse_sensor_presets(const std::string& json_text);
/// The built-in presets (sensors.json embedded in the library at build time), parsed once.
const std::vector<SensorPreset>& sensor_presets();
/// The embedded sensors.json text.
const std::string& sensor_presets_json();
/// Case-insensitive lookup ignoring '-', '_' and spaces ("WorldView-3" == "worldview3").
/// Throws satiq::Error listing the valid names when not found.
const SensorPreset& find_sensor_preset(std::string_view name);
/// Names of the built-in presets, in file order.
std::vector<std::string> sensor_preset_names();

}  // namespace satiq::sensor
