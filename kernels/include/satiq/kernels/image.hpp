#pragma once
/// Image views (non-owning) and a small owning float image.
///
/// A view is pointer + width + height + stride (in elements). Rows are contiguous; the caller
/// owns the memory. Kernels take `ConstImageView<float>` in and `ImageView<float>` out.
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "satiq/kernels/error.hpp"

namespace satiq {

template <class T>
struct ImageView {
    T* data = nullptr;
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::int64_t stride = 0;  ///< elements between the starts of two consecutive rows

    ImageView() = default;
    ImageView(T* d, std::int64_t w, std::int64_t h, std::int64_t s) : data(d), width(w), height(h), stride(s) {}
    ImageView(T* d, std::int64_t w, std::int64_t h) : ImageView(d, w, h, w) {}

    /// A const view converts implicitly from a mutable one.
    template <class U>
    requires std::is_same_v<const U, T> ImageView(const ImageView<U>& o)
        : data(o.data), width(o.width), height(o.height), stride(o.stride) {}

    [[nodiscard]] T* row(std::int64_t y) const { return data + y * stride; }
    [[nodiscard]] T& at(std::int64_t x, std::int64_t y) const { return data[y * stride + x]; }
    [[nodiscard]] std::int64_t pixels() const { return width * height; }
    [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }

    /// Sub-rectangle [x0, x0+w) x [y0, y0+h); throws satiq::Error when it does not fit.
    [[nodiscard]] ImageView sub(std::int64_t x0, std::int64_t y0, std::int64_t w, std::int64_t h) const {
        if (x0 < 0 || y0 < 0 || w < 0 || h < 0 || x0 + w > width || y0 + h > height)
            throw Error("ImageView::sub: rectangle outside the image");
        return ImageView(data + y0 * stride + x0, w, h, stride);
    }
};

template <class T>
using ConstImageView = ImageView<const T>;

/// Owning single-band float image, rows packed (stride == width).
class Image {
public:
    Image() = default;
    Image(std::int64_t w, std::int64_t h, float fill = 0.0f)
        : m_width(w), m_height(h), m_pixels(static_cast<std::size_t>(checked(w, h)), fill) {}

    [[nodiscard]] std::int64_t width() const { return m_width; }
    [[nodiscard]] std::int64_t height() const { return m_height; }
    [[nodiscard]] float* data() { return m_pixels.data(); }
    [[nodiscard]] const float* data() const { return m_pixels.data(); }
    [[nodiscard]] float& at(std::int64_t x, std::int64_t y) {
        return m_pixels[static_cast<std::size_t>(y * m_width + x)];
    }
    [[nodiscard]] float at(std::int64_t x, std::int64_t y) const {
        return m_pixels[static_cast<std::size_t>(y * m_width + x)];
    }
    [[nodiscard]] ImageView<float> view() { return {m_pixels.data(), m_width, m_height, m_width}; }
    [[nodiscard]] ConstImageView<float> view() const { return {m_pixels.data(), m_width, m_height, m_width}; }
    [[nodiscard]] std::vector<float>& pixels() { return m_pixels; }
    [[nodiscard]] const std::vector<float>& pixels() const { return m_pixels; }

private:
    static std::int64_t checked(std::int64_t w, std::int64_t h) {
        if (w < 0 || h < 0) throw Error("Image: negative size");
        return w * h;
    }
    std::int64_t m_width = 0;
    std::int64_t m_height = 0;
    std::vector<float> m_pixels;
};

}  // namespace satiq
