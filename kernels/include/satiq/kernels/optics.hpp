#pragma once
// The optics and edge model, in one place: the normal distribution, the normalized sinc, the
// Gaussian transfer function, and the edge of a Gaussian PSF integrated over a square pixel
// (its ESF and MTF). synth renders with it, sensor predicts with it, degrade inverts it and the
// slanted-edge analysis corrects its bins with it.
//
// Sources: the Gaussian x pixel-box edge and its MTF exp(-2 pi^2 sigma^2 f^2) |sinc f| follow
// R. D. Fiete, "Modeling the Imaging Chain of Digital Cameras", SPIE Press, 2010; the
// antiderivative of the normal CDF, integral Phi(t) dt = t Phi(t) + phi(t), is elementary
// (Abramowitz & Stegun, Handbook of Mathematical Functions, 1964, 26.2).

namespace satiq {

/// Standard normal CDF Phi(t).
double normal_cdf(double t);
/// Standard normal density phi(t).
double normal_pdf(double t);
/// Normalized sinc: sin(pi x) / (pi x), 1 at 0.
double sinc(double x);
/// Transfer function of a unit-area Gaussian of sigma pixels: exp(-2 pi^2 sigma^2 f^2), f in
/// cycles per pixel.
double gaussian_transfer(double f_cyc_per_px, double sigma_px);
/// G_s(x) = x Phi(x / s) + s phi(x / s), the antiderivative of Phi(x / s) (s = 0: max(x, 0), the
/// antiderivative of the unit step).
double gaussian_cdf_antiderivative(double x, double sigma);

/// 1-D edge spread function of a Gaussian PSF integrated over a unit pixel box:
/// ESF(d) = integral_{d-0.5}^{d+0.5} Phi(u / sigma) du = G_s(d + 1/2) - G_s(d - 1/2), evaluated on
/// the dark side (ESF(d) = 1 - ESF(-d)) to keep the terms small. sigma_px = 0 gives the
/// box-integrated step clamp(d + 0.5, 0, 1). d_px is the signed distance from the edge, positive on
/// the bright side.
double box_gaussian_esf(double d_px, double sigma_px);

/// MTF of that model: exp(-2 pi^2 sigma^2 f^2) |sinc f|, f in cycles per pixel.
double box_gaussian_mtf(double freq_cyc_per_px, double sigma_px);

}  // namespace satiq
