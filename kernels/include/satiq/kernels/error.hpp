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

/// A usage error: an option or a combination of options is wrong (unknown sensor name,
/// conflicting or missing options, an out-of-range value). The CLI exits 2 for it (1 for
/// every other satiq::Error, such as an unreadable input).
class UsageError : public Error {
public:
    using Error::Error;
};

/// Runs `f`; a satiq::Error it throws (a parameter value the library refuses, where the value
/// came from an option) becomes a UsageError.
template <class F>
decltype(auto) as_usage_error(F&& f) {
    try {
        return f();
    } catch (const UsageError&) {
        throw;
    } catch (const Error& e) {
        throw UsageError(e.what());
    }
}

}  // namespace satiq
