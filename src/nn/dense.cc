#include "nn/dense.h"

#include "core/error.h"
#include "linalg/kernels.h"
#include "nn/embedding.h"

namespace localrec::nn {

using linalg::gemm;
using linalg::Op;

namespace {
void requireShape(const char* who, const Matrix& m, size_t rows, size_t cols, const char* what) {
  if (m.rows() != rows || m.cols() != cols) {
    fail<InvalidArgument>(who, ": ", what, " is ", m.rows(), " x ", m.cols(), ", expected ", rows, " x ", cols);
  }
}
}  // namespace

Dense::Dense(size_t in, size_t out, bool useBias, GradKind kind)
    : weight("dense.weight", out, in, kind), bias("dense.bias", useBias ? out : 0, 1, kind), useBias_(useBias) {}

void Dense::init(Rng& rng) {
  initGlorotUniform(weight.value, in(), out(), rng);
  bias.value.setZero();
}

void Dense::forward(const Matrix& x, Matrix& y) const {
  if (x.cols() != in()) fail<InvalidArgument>("Dense::forward: input has ", x.cols(), " columns, expected ", in());
  const size_t n = x.rows();
  y.resize(n, out());
  if (useBias_) {
    for (size_t i = 0; i < n; ++i) std::copy_n(bias.value.data(), out(), y.row(i));
  }
  if (n == 1) {
    // One row (streaming inference): y = W x is a GEMV, which skips GEMM's packing of all of W.
    linalg::gemv(weight.value.data(), out(), in(), in(), x.data(), y.data(), useBias_ ? 1.0f : 0.0f);
    return;
  }
  gemm(Op::kNone, Op::kTranspose, n, out(), in(), 1.0f, x.data(), in(), weight.value.data(), in(),
       useBias_ ? 1.0f : 0.0f, y.data(), out());
}

void Dense::backward(const Matrix& x, const Matrix& dY, Matrix* dX) {
  if (weight.kind != GradKind::kDense) fail<InvalidArgument>("Dense::backward: the layer has sparse-row gradients");
  const size_t n = x.rows();
  requireShape("Dense::backward", x, n, in(), "x");
  requireShape("Dense::backward", dY, n, out(), "dY");
  gemm(Op::kTranspose, Op::kNone, out(), in(), n, 1.0f, dY.data(), out(), x.data(), in(), 1.0f,
       weight.grad.data(), in());
  if (useBias_) {
    for (size_t i = 0; i < n; ++i) linalg::axpy(1.0f, dY.row(i), bias.grad.data(), out());
  }
  if (dX != nullptr) {
    dX->resize(n, in());
    gemm(Op::kNone, Op::kNone, n, in(), out(), 1.0f, dY.data(), out(), weight.value.data(), in(), 0.0f,
         dX->data(), in());
  }
}

void Dense::forwardRows(const Matrix& x, std::span<const Index> ids, Matrix& y) {
  if (x.cols() != in()) fail<InvalidArgument>("Dense::forwardRows: input has ", x.cols(), " columns, expected ", in());
  gatherRows(weight.value, ids, gathered_);
  const size_t n = x.rows(), c = ids.size();
  y.resize(n, c);
  if (n == 0) return;
  if (useBias_) {
    float* row0 = y.row(0);
    for (size_t j = 0; j < c; ++j) row0[j] = bias.value.data()[ids[j]];
    for (size_t i = 1; i < n; ++i) std::copy_n(row0, c, y.row(i));
  }
  gemm(Op::kNone, Op::kTranspose, n, c, in(), 1.0f, x.data(), in(), gathered_.data(), in(),
       useBias_ ? 1.0f : 0.0f, y.data(), c);
}

void Dense::backwardRows(const Matrix& x, std::span<const Index> ids, const Matrix& dY, Matrix* dX,
                         SparseRows& dW, SparseRows& db) {
  const size_t n = x.rows(), c = ids.size();
  requireShape("Dense::backwardRows", x, n, in(), "x");
  requireShape("Dense::backwardRows", dY, n, c, "dY");
  requireShape("Dense::backwardRows", gathered_, c, in(), "the rows kept by forwardRows");
  rowGrad_.resize(c, in());
  gemm(Op::kTranspose, Op::kNone, c, in(), n, 1.0f, dY.data(), c, x.data(), in(), 0.0f, rowGrad_.data(), in());
  scatterAddRows(ids, rowGrad_, dW);
  if (useBias_) {
    // Column sums of dY (row by row, so memory is read in order), then per id.
    colSum_.resize(1, c);
    colSum_.setZero();
    for (size_t i = 0; i < n; ++i) linalg::axpy(1.0f, dY.row(i), colSum_.data(), c);
    for (size_t j = 0; j < c; ++j) *db.rowFor(ids[j]) += colSum_.data()[j];
  }
  if (dX != nullptr) {
    dX->resize(n, in());
    gemm(Op::kNone, Op::kNone, n, in(), c, 1.0f, dY.data(), c, gathered_.data(), in(), 0.0f, dX->data(), in());
  }
}

}  // namespace localrec::nn
