#include "nn/embedding.h"

#include <cstring>

#include "core/error.h"
#include "linalg/kernels.h"

namespace localrec::nn {

void gatherRows(const Matrix& table, std::span<const Index> ids, Matrix& out) {
  const size_t c = table.cols();
  out.resize(ids.size(), c);
  for (size_t i = 0; i < ids.size(); ++i) {
    const Index id = ids[i];
    if (id < 0 || static_cast<size_t>(id) >= table.rows()) {
      fail<InvalidArgument>("gatherRows: id ", id, " at position ", i, " outside [0, ", table.rows(), ")");
    }
    std::memcpy(out.row(i), table.row(static_cast<size_t>(id)), c * sizeof(float));
  }
}

void scatterAddRows(std::span<const Index> ids, const Matrix& d, SparseRows& grad) {
  if (d.rows() != ids.size() || d.cols() != grad.cols()) {
    fail<InvalidArgument>("scatterAddRows: gradient is ", d.rows(), " x ", d.cols(), ", expected ",
                          ids.size(), " x ", grad.cols());
  }
  for (size_t i = 0; i < ids.size(); ++i) linalg::axpy(1.0f, d.row(i), grad.rowFor(ids[i]), d.cols());
}

Embedding::Embedding(size_t rows, size_t dim) : table("embedding", rows, dim, GradKind::kSparseRows) {}

void Embedding::init(Rng& rng, float a) { initUniform(table.value, -a, a, rng); }

}  // namespace localrec::nn
