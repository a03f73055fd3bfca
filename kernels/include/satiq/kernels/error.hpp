#pragma once
/// Project exception: thrown for broken preconditions and invalid parameters.
/// The message names the operation and the parameter and says what to do.
#include <stdexcept>
#include <string>

namespace satiq {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace satiq
