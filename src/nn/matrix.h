// A dense row-major float matrix that owns its buffer. The neural layers keep
// their parameters, activations and workspaces in these; resize() keeps the
// allocation when shrinking, so a workspace sized for the largest batch is
// never reallocated during training.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace localrec::nn {

class Matrix {
 public:
  Matrix() = default;
  Matrix(size_t rows, size_t cols) { resize(rows, cols); }

  // New elements (beyond the old size) are zero; existing ones keep their
  // values in memory order, so treat the contents as unspecified after a
  // change of shape.
  void resize(size_t rows, size_t cols) {
    rows_ = rows;
    cols_ = cols;
    data_.resize(rows * cols);
  }
  // Reserves room for rows*cols elements without changing the shape.
  void reserve(size_t rows, size_t cols) { data_.reserve(rows * cols); }
  void setZero() { std::fill(data_.begin(), data_.end(), 0.0f); }
  void fill(float v) { std::fill(data_.begin(), data_.end(), v); }

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  size_t size() const { return rows_ * cols_; }
  bool empty() const { return size() == 0; }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float* row(size_t r) { return data_.data() + r * cols_; }
  const float* row(size_t r) const { return data_.data() + r * cols_; }
  float& operator()(size_t r, size_t c) { return data_[r * cols_ + c]; }
  float operator()(size_t r, size_t c) const { return data_[r * cols_ + c]; }

 private:
  size_t rows_ = 0;
  size_t cols_ = 0;
  std::vector<float> data_;
};

}  // namespace localrec::nn
