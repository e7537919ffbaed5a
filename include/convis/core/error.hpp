#pragma once
// convis::error — the one exception type for everything read or checked at run time.
#include <stdexcept>
#include <string>

namespace convis {

/// Thrown for any run-time failure: bad files, tensors, shapes, batch sizes, device status codes.
/// The message names the file or tensor, what was expected and what was found.
class error : public std::runtime_error {
public:
    explicit error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace convis
