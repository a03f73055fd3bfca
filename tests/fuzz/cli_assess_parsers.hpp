#pragma once
// The CLI's own option parsers, reached by fuzz_parse.cpp (see cli_assess_parsers.cpp).
#include <string>

#include "satiq/kernels/edges.hpp"
#include "satiq/pipeline/ops/assess.hpp"

namespace satiq::fuzz {

/// `satiq assess --roi X,Y,W,H|X0,Y0,X1,Y1,HALF_WIDTH` (throws satiq::Error).
EdgeRoi cli_parse_roi(const std::string& s);
/// `satiq assess --band N|all` (throws satiq::UsageError).
AssessParams cli_parse_band(const std::string& s);
/// The `--seed` validator of every command: an empty string when valid, else the message.
std::string cli_check_seed(std::string s);

}  // namespace satiq::fuzz
