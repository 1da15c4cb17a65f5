// Embedding lookup: out[i] = table[ids[i]]; its gradient is sparse rows.
#pragma once

#include <span>

#include "core/rng.h"
#include "core/types.h"
#include "nn/parameter.h"

namespace localrec::nn {

// Row gather/scatter on any table (also used for weight tying and for the
// candidate rows of a Dense output layer).
// out (ids.size() x table.cols()) = table[ids]. Throws on an id outside the table.
void gatherRows(const Matrix& table, std::span<const Index> ids, Matrix& out);
// grad[ids[i]] += d.row(i), duplicates summed; grad must have been reset() for the table.
void scatterAddRows(std::span<const Index> ids, const Matrix& d, SparseRows& grad);

class Embedding {
 public:
  Embedding() = default;
  // Table of `rows` x `dim`, sparse-row gradient.
  Embedding(size_t rows, size_t dim);

  // Uniform(-a, a); GRU4Rec-style init uses a = sqrt(6 / (rows + dim)).
  void init(Rng& rng, float a);

  void forward(std::span<const Index> ids, Matrix& out) const { gatherRows(table.value, ids, out); }
  // Accumulates d(loss)/d(table) into `grad` (call grad.reset(rows, dim, maxBatch) once).
  void backward(std::span<const Index> ids, const Matrix& dOut, SparseRows& grad) const {
    scatterAddRows(ids, dOut, grad);
  }

  size_t rows() const { return table.rows(); }
  size_t dim() const { return table.cols(); }

  Parameter table;
};

}  // namespace localrec::nn
