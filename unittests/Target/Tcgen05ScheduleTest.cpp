//===- Tcgen05ScheduleTest.cpp - the sm_100a forward's barrier protocol ---===//
//
// The sm_100a forward (lib/Conversion/AttnQATToGPU/Tcgen05Attention.cpp)
// cannot run here, and its warp roles are ordered only by mbarriers. This
// test runs a transcription of the four roles' waits, arrivals, buffer
// reads and writes and the tensor core's in-order queue of tcgen05.cp /
// tcgen05.mma / tcgen05.commit under random interleavings, with mbarriers
// that behave as the hardware's (a parity wait passes when the barrier's
// current phase parity differs), and checks that
//   - every run finishes (no deadlock),
//   - every parity wait passes exactly when the phase it means is complete
//     (no barrier gets two phases ahead of a waiter: no aliasing),
//   - every read finds the version of the data it is meant to (no buffer
//     overwritten before its reader is done, none read before it is written).
// It is a model of the design (docs/gpu-kernels.md's barrier table) and must
// change with the kernel's roles.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

enum Bar { QFull, KVFull0, KVFull1, SFull0, SFull1, PFull0, PFull1, OFree, TileDone0,
           TileDone1, RowsDone, kBars };

/// What can go wrong in one run, if anything.
struct Run {
  std::string error;
  void fail(const std::string &e) {
    if (error.empty())
      error = e;
  }
};

struct Model {
  Run &run;
  int phase[kBars] = {};   // completed phases
  std::map<std::string, int64_t> version; // buffer -> which tile's data
  explicit Model(Run &run) : run(run) {}

  /// One step of an agent: returns false while blocked.
  using Step = std::function<bool()>;

  Step wait(Bar b, int64_t use) {
    return [this, b, use] {
      bool passes = phase[b] % 2 != use % 2;   // try_wait.parity(use % 2)
      bool meant = phase[b] >= use + 1;         // phase `use` complete
      if (passes != meant)
        run.fail("barrier " + std::to_string(b) + " aliased: waits for use " +
                 std::to_string(use) + " at phase " + std::to_string(phase[b]));
      return passes;
    };
  }
  Step arrive(Bar b) { // one arrival completes a phase (each role is one agent)
    return [this, b] {
      ++phase[b];
      return true;
    };
  }
  Step write(std::string buf, int64_t v) {
    return [this, buf, v] {
      version[buf] = v;
      return true;
    };
  }
  Step read(std::string buf, int64_t v) {
    return [this, buf, v] {
      auto it = version.find(buf);
      if (it == version.end() || it->second != v)
        run.fail("read " + buf + " expecting " + std::to_string(v) + ", found " +
                 (it == version.end() ? std::string("nothing")
                                      : std::to_string(it->second)));
      return true;
    };
  }
};

std::string idx(const char *name, int64_t i) { return std::string(name) + std::to_string(i); }

/// Versions of O: after P_i V_i it is 2i + 1, after the correction for tile
/// j it is 2j.
int64_t afterPV(int64_t i) { return 2 * i + 1; }
int64_t corrected(int64_t j) { return 2 * j; }

/// Which protocol step to break (for the mutation checks).
/// (The softmax's wait on tileDone before it writes P_j is implied by the
/// others, so skipping it breaks nothing: S_j, which it waits for, is
/// committed after P_{j-2} V_{j-2} in the tensor core's order. The kernel
/// keeps it as a guard.)
enum class Break { None, SoftmaxArrivesEarly, CorrectionWaitsWrongBuffer, LoadSkipsTileDone,
                   MmaSkipsOFree };

std::string simulate(int64_t T, uint32_t seed, Break brk = Break::None) {
  Run run;
  Model m(run);
  using Steps = std::vector<Model::Step>;
  std::deque<Model::Step> tensorCore; // in-order async ops of the MMA lane
  auto issue = [&](Steps ops) {
    return [&tensorCore, ops] {
      for (auto &op : ops)
        tensorCore.push_back(op);
      return true;
    };
  };

  Steps load, mma, softmax, correction;
  // Load warp.
  load = {m.write("Q", 0), m.write("Qsf", 0), m.arrive(QFull)};
  for (int64_t j = 0; j < T; ++j) {
    int64_t s = j % 2;
    if (j >= 2 && brk != Break::LoadSkipsTileDone)
      load.push_back(m.wait(Bar(TileDone0 + s), j / 2 - 1));
    for (const char *b : {"K", "Ksf", "V", "Vsf"})
      load.push_back(m.write(idx(b, s), j));
    load.push_back(m.arrive(Bar(KVFull0 + s)));
  }
  // MMA lane: issues into the tensor core's queue.
  mma = {m.wait(QFull, 0), issue({m.read("Qsf", 0), m.write("SFq", 0)})};
  auto pv = [&](int64_t i) {
    int64_t b = i % 2;
    mma.push_back(m.wait(Bar(PFull0 + b), i / 2));
    if (brk != Break::MmaSkipsOFree)
      mma.push_back(m.wait(OFree, i));
    Steps ops = {m.read(idx("Psf", b), i), m.write(idx("SFp", b), i), m.read(idx("P", b), i),
                 m.read(idx("SFp", b), i), m.read(idx("V", b), i), m.read(idx("SFv", b), i)};
    if (i >= 1)
      ops.push_back(m.read("O", corrected(i)));
    ops.push_back(m.write("O", afterPV(i)));
    ops.push_back(m.arrive(Bar(TileDone0 + b)));
    mma.push_back(issue(ops));
  };
  for (int64_t j = 0; j < T; ++j) {
    int64_t s = j % 2;
    mma.push_back(m.wait(Bar(KVFull0 + s), j / 2));
    mma.push_back(issue({m.read(idx("Ksf", s), j), m.write(idx("SFk", s), j),
                         m.read(idx("Vsf", s), j), m.write(idx("SFv", s), j), m.read("Q", 0),
                         m.read("SFq", 0), m.read(idx("K", s), j), m.read(idx("SFk", s), j),
                         m.write(idx("S", s), j), m.arrive(Bar(SFull0 + s))}));
    if (j >= 1)
      pv(j - 1);
  }
  if (T >= 1)
    pv(T - 1);
  // Softmax warps.
  for (int64_t j = 0; j < T; ++j) {
    int64_t b = j % 2;
    softmax.push_back(m.wait(Bar(SFull0 + b), j / 2));
    softmax.push_back(m.read(idx("S", b), j));
    if (j >= 2)
      softmax.push_back(m.wait(Bar(TileDone0 + b), j / 2 - 1));
    if (brk == Break::SoftmaxArrivesEarly)
      softmax.push_back(m.arrive(Bar(PFull0 + b)));
    for (const char *buf : {"P", "Psf", "alpha"})
      softmax.push_back(m.write(idx(buf, b), j));
    if (brk != Break::SoftmaxArrivesEarly)
      softmax.push_back(m.arrive(Bar(PFull0 + b)));
  }
  softmax.push_back(m.write("rowL", 0));
  softmax.push_back(m.arrive(RowsDone));
  // Correction warps and the epilogue.
  for (int64_t j = 0; j < T; ++j) {
    int64_t b = j % 2;
    correction.push_back(m.wait(Bar(PFull0 + b), j / 2));
    correction.push_back(m.read(idx("alpha", b), j));
    if (j >= 1) {
      int64_t prev = brk == Break::CorrectionWaitsWrongBuffer ? j : j - 1;
      correction.push_back(m.wait(Bar(TileDone0 + prev % 2), (j - 1) / 2));
      correction.push_back(m.read("O", afterPV(j - 1)));
      correction.push_back(m.write("O", corrected(j)));
    }
    correction.push_back(m.arrive(OFree));
  }
  correction.push_back(m.wait(RowsDone, 0));
  if (T >= 1) {
    correction.push_back(m.wait(Bar(TileDone0 + (T - 1) % 2), (T - 1) / 2));
    correction.push_back(m.read("O", afterPV(T - 1)));
  }
  correction.push_back(m.read("rowL", 0));

  // Random interleaving of the agents and the tensor core.
  std::vector<Steps *> agents = {&load, &mma, &softmax, &correction};
  std::vector<size_t> pc(agents.size(), 0);
  std::mt19937 rng(seed);
  for (int64_t guard = 0; guard < 1000000 && run.error.empty(); ++guard) {
    std::vector<int> ready;
    for (size_t a = 0; a < agents.size(); ++a)
      if (pc[a] < agents[a]->size())
        ready.push_back(static_cast<int>(a));
    if (!tensorCore.empty())
      ready.push_back(-1);
    if (ready.empty())
      return "";
    // Try the agents in a random order; the first that can move, moves.
    std::shuffle(ready.begin(), ready.end(), rng);
    bool moved = false;
    for (int a : ready) {
      if (a < 0) {
        tensorCore.front()();
        tensorCore.pop_front();
        moved = true;
        break;
      }
      if ((*agents[a])[pc[a]]()) {
        ++pc[a];
        moved = true;
        break;
      }
      if (!run.error.empty())
        break;
    }
    if (!moved && run.error.empty())
      return "deadlock with T = " + std::to_string(T);
  }
  return run.error;
}

TEST(Tcgen05Schedule, EveryInterleavingFinishesAndReadsWhatItMeans) {
  for (int64_t T = 0; T <= 7; ++T)
    for (uint32_t seed = 0; seed < 300; ++seed)
      ASSERT_EQ(simulate(T, seed), "") << "T = " << T << ", seed " << seed;
}

TEST(Tcgen05Schedule, ABrokenProtocolIsCaught) {
  // Each broken step must show up in some run.
  for (Break brk : {Break::SoftmaxArrivesEarly, Break::CorrectionWaitsWrongBuffer,
                    Break::LoadSkipsTileDone, Break::MmaSkipsOFree}) {
    bool caught = false;
    for (uint32_t seed = 0; seed < 300 && !caught; ++seed)
      caught = !simulate(5, seed, brk).empty();
    EXPECT_TRUE(caught) << "mutation " << static_cast<int>(brk) << " not caught";
  }
}

} // namespace
