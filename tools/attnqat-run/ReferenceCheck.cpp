//===- ReferenceCheck.cpp - attnqat-run's float64 reference check ---------===//

#include "ReferenceCheck.h"

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "attnqat/Reference/Attention.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attnqat;
namespace ref = ::attnqat::reference;
namespace numerics = ::attnqat::numerics;
namespace arun = ::attnqat::run;

namespace {
llvm::Error fail(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "--reference: " + msg);
}

ref::Format toFormat(FP4FormatAttrInterface f) {
  return isa<MXFP4Attr>(f) ? ref::Format::MXFP4 : ref::Format::NVFP4;
}

ref::Mode toMode(Mode m) {
  switch (m) {
  case Mode::None:
    return ref::Mode::None;
  case Mode::QAT:
    return ref::Mode::QAT;
  case Mode::DropIn:
    return ref::Mode::DropIn;
  case Mode::FP4:
    return ref::Mode::FP4;
  }
  return ref::Mode::None;
}

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<float> toFloats(const arun::Tensor &t) {
  std::vector<float> out(numElements(t.shape));
  for (int64_t i = 0, e = out.size(); i < e; ++i)
    out[i] = static_cast<float>(t.get(i));
  return out;
}

/// Decodes FP4 codes (already decoded to their E2M1 values by `get`) with
/// their decoded block scales along `axis`: (code * scale) * g in float32.
std::vector<float> decodeFP4(const arun::Tensor &codes,
                             const arun::Tensor &scales, int64_t axis,
                             FP4FormatAttrInterface format) {
  const auto &s = codes.shape, &ss = scales.shape;
  int64_t rank = s.size(), bs = format.getBlockSize();
  float g = format.getGlobalScaleValue();
  std::vector<int64_t> strides(rank, 1), sStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d) {
    strides[d] = strides[d + 1] * s[d + 1];
    sStrides[d] = sStrides[d + 1] * ss[d + 1];
  }
  std::vector<float> out(numElements(s));
  for (int64_t i = 0, e = out.size(); i < e; ++i) {
    int64_t sIdx = 0, rem = i;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t c = rem / strides[d];
      rem %= strides[d];
      sIdx += (d == axis ? c / bs : c) * sStrides[d];
    }
    float v = static_cast<float>(codes.get(i)) * static_cast<float>(scales.get(sIdx));
    out[i] = v * g;
  }
  return out;
}

/// The entry argument index an operand is, or an error naming the operand.
llvm::Expected<unsigned> argumentIndex(func::FuncOp entry, Value v,
                                       llvm::StringRef what) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != &entry.getBody().front())
    return fail("the " + what +
                " operand of the attention must be an argument of the entry "
                "function");
  return arg.getArgNumber();
}
/// Max-abs / RMS comparison of a result with expected values (NaN must
/// match NaN).
arun::ReferenceReport compareResult(const arun::Tensor &t,
                                    llvm::StringRef quantity,
                                    const std::vector<double> &expected,
                                    const arun::ReferenceOptions &options) {
  arun::ReferenceReport rep;
  rep.quantity = quantity.str();
  rep.count = numElements(t.shape);
  double sumSq = 0;
  for (double e : expected)
    if (std::isfinite(e))
      rep.refAbsMax = std::max(rep.refAbsMax, std::fabs(e));
  for (int64_t i = 0; i < rep.count; ++i) {
    double o = t.get(i), e = expected[i];
    if (std::isnan(o) || std::isnan(e)) {
      rep.nanMismatch += std::isnan(o) != std::isnan(e);
      continue;
    }
    double diff = o == e ? 0.0 : std::fabs(o - e);
    if (std::isnan(diff))
      diff = INFINITY;
    rep.maxAbs = std::max(rep.maxAbs, diff);
    sumSq += diff * diff;
  }
  rep.rms = rep.count ? std::sqrt(sumSq / rep.count) : 0;
  if (options.tolerance >= 0)
    rep.passed = rep.nanMismatch == 0 &&
                 rep.maxAbs <= options.tolerance * std::max(rep.refAbsMax, 1.0);
  return rep;
}

numerics::Format toNumericsFormat(FP4FormatAttrInterface f) {
  return isa<MXFP4Attr>(f) ? numerics::Format::MXFP4 : numerics::Format::NVFP4;
}

/// Checks quantize / dequantize / fake_quant ops whose operands are entry
/// arguments and whose results are returned against the C++ codec
/// (lib/Numerics), which the generated arith code must match bit for bit.
llvm::Error checkCodecs(func::FuncOp entry, func::ReturnOp ret,
                        const std::vector<arun::Tensor> &arguments,
                        const std::vector<arun::Tensor> &results,
                        const arun::ReferenceOptions &options,
                        std::vector<arun::ReferenceReport> &reports) {
  auto returned = [&](Value v) -> int {
    for (auto [i, operand] : llvm::enumerate(ret.getOperands()))
      if (operand == v)
        return static_cast<int>(i);
    return -1;
  };
  auto argument = [&](Value v) -> const arun::Tensor * {
    auto arg = dyn_cast<BlockArgument>(v);
    if (!arg || arg.getOwner() != &entry.getBody().front())
      return nullptr;
    return &arguments[arg.getArgNumber()];
  };
  auto contiguousStrides = [](const std::vector<int64_t> &shape) {
    std::vector<int64_t> strides(shape.size(), 1);
    for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * shape[i + 1];
    return strides;
  };
  auto add = [&](int r, llvm::StringRef what, const std::vector<double> &exp) {
    reports.push_back(compareResult(results[r], what, exp, options));
    reports.back().result = std::to_string(r);
  };
  WalkResult walk = entry.walk([&](Operation *op) {
    if (auto fq = dyn_cast<FakeQuantOp>(op)) {
      const arun::Tensor *x = argument(fq.getInput());
      int r = returned(fq.getResult());
      if (!x || r < 0)
        return WalkResult::advance();
      std::vector<float> in = toFloats(*x), out(in.size());
      std::vector<int64_t> strides = contiguousStrides(x->shape);
      numerics::TensorView view{static_cast<int64_t>(x->shape.size()),
                                x->shape.data(), strides.data()};
      numerics::fakeQuantTensor(toNumericsFormat(fq.getFormat()), in.data(),
                                view, fq.getAxis(),
                                fq.getFormat().getGlobalScaleValue(), out.data());
      add(r, "fake_quant", std::vector<double>(out.begin(), out.end()));
    } else if (auto q = dyn_cast<QuantizeOp>(op)) {
      const arun::Tensor *x = argument(q.getInput());
      int rc = returned(q.getCodes()), rs = returned(q.getScales());
      if (!x || (rc < 0 && rs < 0))
        return WalkResult::advance();
      numerics::Format format = toNumericsFormat(q.getFormat());
      std::vector<float> in = toFloats(*x);
      std::vector<int64_t> strides = contiguousStrides(x->shape);
      numerics::TensorView view{static_cast<int64_t>(x->shape.size()),
                                x->shape.data(), strides.data()};
      std::vector<int64_t> scaleShape = x->shape;
      scaleShape[q.getAxis()] = numerics::numBlocks(format, scaleShape[q.getAxis()]);
      std::vector<uint8_t> codes(in.size()), scales(numElements(scaleShape));
      numerics::quantizeTensor(format, in.data(), view, q.getAxis(),
                               q.getFormat().getGlobalScaleValue(), codes.data(),
                               scales.data());
      // The run reports codes and scales by their decoded values.
      if (rc >= 0) {
        std::vector<double> exp;
        for (uint8_t c : codes)
          exp.push_back(numerics::decodeE2M1(c));
        add(rc, "quantize codes", exp);
      }
      if (rs >= 0) {
        std::vector<double> exp;
        for (uint8_t b : scales)
          exp.push_back(numerics::decodeScale(format, b));
        add(rs, "quantize scales", exp);
      }
    } else if (auto dq = dyn_cast<DequantizeOp>(op)) {
      const arun::Tensor *c = argument(dq.getCodes());
      const arun::Tensor *sc = argument(dq.getScales());
      int r = returned(dq.getResult());
      if (!c || !sc || r < 0)
        return WalkResult::advance();
      // Codes and scales arrive decoded.
      std::vector<float> values = decodeFP4(*c, *sc, dq.getAxis(), dq.getFormat());
      std::vector<double> exp(values.begin(), values.end());
      add(r, "dequantize", exp);
    }
    return WalkResult::advance();
  });
  (void)walk;
  return llvm::Error::success();
}
} // namespace

llvm::Expected<std::vector<arun::ReferenceReport>>
arun::checkAgainstReference(func::FuncOp entry,
                                    const std::vector<Tensor> &arguments,
                                    const std::vector<Tensor> &results,
                                    const ReferenceOptions &options,
                                    llvm::raw_ostream &os) {
  std::vector<ReferenceReport> reports;
  auto ret = cast<func::ReturnOp>(entry.getBody().front().getTerminator());
  if (llvm::Error e = checkCodecs(entry, ret, arguments, results, options, reports))
    return std::move(e);

  SmallVector<AttentionOp> attentions;
  entry.walk([&](AttentionOp op) { attentions.push_back(op); });
  if (attentions.empty() && !reports.empty())
    return reports;
  if (attentions.size() != 1)
    return fail("the entry must hold one attnqat.attention (or only codec "
                "ops), found " +
                llvm::Twine(attentions.size()) + " attentions");
  AttentionOp op = attentions.front();
  AttentionBackwardOp backward;
  if (Value state = op.getState())
    for (Operation *user : state.getUsers())
      if (auto bwd = dyn_cast<AttentionBackwardOp>(user))
        backward = bwd;

  auto argOf = [&](Value v, llvm::StringRef what) -> llvm::Expected<const Tensor *> {
    auto idx = argumentIndex(entry, v, what);
    if (!idx)
      return idx.takeError();
    return &arguments[*idx];
  };
  ConfigAttr config = op.getConfig();
  auto qT = argOf(op.getQuery(), "query");
  auto kT = argOf(op.getKey(), "key");
  auto vT = argOf(op.getValue(), "value");
  if (!qT || !kT || !vT)
    return llvm::joinErrors(llvm::joinErrors(qT.takeError(), kT.takeError()),
                            vT.takeError());

  std::vector<float> q, k, v, mask, dO;
  std::vector<int32_t> lengths;
  ref::Problem p;
  const auto &qs = (*qT)->shape, &ks = (*kT)->shape;
  p.B = qs[0], p.Hq = qs[1], p.M = qs[2], p.D = qs[3], p.Hkv = ks[1], p.N = ks[2];
  ref::Config c;
  c.mode = toMode(config.getMode());
  c.qFormat = toFormat(config.getQ());
  c.kFormat = toFormat(config.getK());
  c.vFormat = toFormat(config.getV());
  c.pFormat = toFormat(config.getP());
  c.pTwoLevel = config.getPScaling() == PScaling::TwoLevel;
  c.forwardTileSize = options.keyTile;
  if (config.getMode() == Mode::FP4) {
    auto qsT = argOf(op.getQueryScales(), "query scales");
    auto ksT = argOf(op.getKeyScales(), "key scales");
    auto vsT = argOf(op.getValueScales(), "value scales");
    if (!qsT || !ksT || !vsT)
      return llvm::joinErrors(llvm::joinErrors(qsT.takeError(), ksT.takeError()),
                              vsT.takeError());
    q = decodeFP4(**qT, **qsT, 3, config.getQ());
    k = decodeFP4(**kT, **ksT, 3, config.getK());
    v = decodeFP4(**vT, **vsT, 2, config.getV());
    c.inputsPrequantized = true;
  } else {
    q = toFloats(**qT), k = toFloats(**kT), v = toFloats(**vT);
  }
  p.q = q.data(), p.k = k.data(), p.v = v.data();
  if (op.getMask()) {
    auto mT = argOf(op.getMask(), "mask");
    if (!mT)
      return mT.takeError();
    mask = toFloats(**mT);
    p.mask = mask.data();
    p.maskB = (*mT)->shape[0], p.maskH = (*mT)->shape[1];
  }
  if (op.getKeyLengths()) {
    auto lT = argOf(op.getKeyLengths(), "key_lengths");
    if (!lT)
      return lT.takeError();
    for (int64_t i = 0; i < p.B; ++i)
      lengths.push_back(static_cast<int32_t>((*lT)->get(i)));
    p.keyLengths = lengths.data();
  }
  p.causal = op.getCausal();
  p.scale = op.getSoftmaxScale();

  ref::ForwardResult fwd;
  if (ref::Status s = ref::forward(p, c, fwd); !s)
    return fail("reference forward: " + s.message);
  ref::BackwardResult bwd;
  if (backward) {
    auto dT = argOf(backward.getGradOutput(), "grad_output");
    if (!dT)
      return dT.takeError();
    dO = toFloats(**dT);
    if (ref::Status s = ref::backward(p, c, fwd, dO.data(), bwd); !s)
      return fail("reference backward: " + s.message);
  }

  // Pair the entry's results with the op results they return.
  auto compare = [&](unsigned r, llvm::StringRef quantity,
                     const std::vector<double> &expected) {
    reports.push_back(compareResult(results[r], quantity, expected, options));
  };
  for (auto [r, value] : llvm::enumerate(ret.getOperands())) {
    if (value == op.getOutput())
      compare(r, "O", fwd.o);
    else if (value == op.getLse())
      compare(r, "LSE", fwd.lse);
    else if (backward && value == backward.getGradQuery())
      compare(r, "dQ", bwd.dq);
    else if (backward && value == backward.getGradKey())
      compare(r, "dK", bwd.dk);
    else if (backward && value == backward.getGradValue())
      compare(r, "dV", bwd.dv);
    else
      continue;
    reports.back().result = std::to_string(r);
  }

  // The figures of the matched backward (DESIGN rules 1 and 2).
  if (c.mode == ref::Mode::DropIn) {
    // The drop-in backward multiplies dV by the unquantized P: every block
    // the forward's quantization changed differs from what the backward uses.
    std::vector<double> scores;
    if (ref::Status st = ref::computeScores(p, c, scores); !st)
      return fail("reference scores: " + st.message);
    int64_t bs = numerics::blockSize(c.pFormat), differ = 0, total = 0;
    std::vector<float> row(p.N), quantized(p.N);
    for (int64_t r = 0; r < p.rows(); ++r) {
      const double *sRow = scores.data() + r * p.N;
      double rowMax = -INFINITY;
      for (int64_t j = 0; j < p.N; ++j)
        rowMax = std::max(rowMax, sRow[j]);
      if (std::isinf(rowMax))
        continue; // fully masked row
      double frame = std::ceil(rowMax);
      for (int64_t j = 0; j < p.N; ++j)
        row[j] = ref::pTildeInFrame(sRow[j], frame);
      ref::fakeQuantRow(c.pFormat, row.data(), p.N, c.pGlobalScale(),
                        quantized.data());
      // Blocks with no visible key are left out, as in the QAT count.
      for (int64_t j0 = 0; j0 < p.N; j0 += bs) {
        int64_t j1 = std::min(j0 + bs, p.N);
        bool visible = false, differs = false;
        for (int64_t j = j0; j < j1; ++j) {
          visible |= !std::isinf(sRow[j]);
          differs |= row[j] != quantized[j];
        }
        total += visible;
        differ += visible && differs;
      }
    }
    os << llvm::formatv("matched recomputation: {0} of {1} P blocks the "
                        "backward uses differ from the forward's (drop-in: "
                        "unquantized P in the backward, {2:P})\n",
                        differ, total, total ? double(differ) / total : 0.0);
  }
  if (c.mode == ref::Mode::QAT) {
    ref::FrameMismatch mm = ref::pFrameMismatch(p, c, options.keyTile);
    os << llvm::formatv("matched recomputation: {0} of {1} P blocks differ "
                        "between the forward's tiles and the backward's final "
                        "frame ({2:P}; {3} with a subnormal E4M3 scale)\n",
                        mm.mismatching, mm.total, mm.fraction(),
                        mm.subnormalScale);
  }
  if (backward) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < bwd.dsRowSum.size(); ++i) {
      worst = std::max(worst, std::fabs(bwd.dsRowSum[i]));
      scale = std::max(scale, bwd.dsAbsRowSum[i]);
    }
    os << llvm::formatv("rowsum(dS): max |rowsum| = {0:e} (max row sum of "
                        "|dS| = {1:e}){2}\n",
                        worst, scale,
                        c.mode == ref::Mode::QAT
                            ? ": ~0 as rule 2 requires (D from O')"
                            : c.mode == ref::Mode::DropIn
                                  ? ": not 0, D comes from O (drop-in)"
                                  : "");
  }
  return reports;
}
