// A password or token: kept out of every printout, and wiped from memory when it goes away.
#pragma once

#include <string>
#include <utility>

namespace wattprint {

/// Holds a credential. It has no stream or fmt formatter on purpose: the only way to the characters is
/// reveal(), called where the credential is handed to the library that sends it.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      value_ = std::move(other.value_);
      other.wipe();
    }
    return *this;
  }
  ~Secret() { wipe(); }

  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
  [[nodiscard]] const std::string& reveal() const noexcept { return value_; }

 private:
  void wipe() noexcept {
    volatile char* p = value_.data();
    for (std::size_t i = 0; i < value_.size(); ++i) p[i] = '\0';
    value_.clear();
  }
  std::string value_;
};

}  // namespace wattprint
