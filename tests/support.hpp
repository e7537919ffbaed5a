#pragma once
// Shared by the tests: golden fixtures (written by tests/golden/make_fixtures.py) and comparisons.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <convis/convis.hpp>

#ifndef CONVIS_GOLDEN_DIR
#error "CONVIS_GOLDEN_DIR must name tests/golden"
#endif

namespace test {

inline convis::safetensors_file fixture(const std::string& name) {
    return convis::read_safetensors(std::string(CONVIS_GOLDEN_DIR) + "/" + name + ".safetensors");
}
inline int meta_int(const convis::safetensors_file& f, const std::string& key) { return std::stoi(f.metadata.at(key)); }
inline double meta_double(const convis::safetensors_file& f, const std::string& key) { return std::stod(f.metadata.at(key)); }

template <class T = float>
std::vector<T> values(const convis::safetensors_file& f, const std::string& name) {
    const std::vector<float> v = f.at(name).to_vector<float>(f.path, name);
    return std::vector<T>(v.begin(), v.end());
}

/// An I64 tensor (labels, pool indices).
inline std::vector<std::int64_t> int64s(const convis::safetensors_file& f, const std::string& name) {
    const auto& t = f.at(name);
    REQUIRE(t.type == convis::dtype::i64);
    std::vector<std::int64_t> v(t.numel());
    std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(std::int64_t));
    return v;
}

/// Largest |got - want| relative to the largest |want|: the error measure of every golden check.
template <class A, class B>
double relative_error(std::span<const A> got, std::span<const B> want) {
    REQUIRE(got.size() == want.size());
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double g = double(got[i]), w = double(want[i]);
        if (std::isnan(g) != std::isnan(w)) return INFINITY;  // std::max would drop a NaN
        diff = std::max(diff, std::abs(g - w));
        scale = std::max(scale, std::abs(w));
    }
    return scale > 0 ? diff / scale : diff;
}

/// A host view's values (a model's output, a projection) copied out, to compare after the model moves on.
template <class V>
std::vector<float> host_copy(const V& t) {
    return std::vector<float>(t.data(), t.data() + t.size());
}

/// Checks `got` against tensor `name` of fixture `f` at relative error <= tol.
template <class A>
void check_close(std::span<const A> got, const convis::safetensors_file& f, const std::string& name, double tol = 1e-4) {
    const std::vector<float> want = f.at(name).to_vector<float>(f.path, name);
    const double err = relative_error<A, float>(got, want);
    INFO(f.path << " tensor '" << name << "' relative error " << err);
    CHECK(err <= tol);
}

/// Copies fixture tensors into the model's parameters by name; `rename` maps the model's names to
/// the fixture's (identity by default).
template <class M, class F>
void load_params(M& model, const convis::safetensors_file& f, F rename) {
    for (auto& p : model.parameter_list()) {
        const std::vector<float> v = f.at(rename(p.name)).template to_vector<float>(f.path, rename(p.name));
        REQUIRE(v.size() == p.values.size());
        std::copy(v.begin(), v.end(), p.values.begin());
    }
}

}  // namespace test
