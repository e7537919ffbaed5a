#pragma once
// Learning-rate schedules. The paper (Sec. 3) anneals the rate "manually when the validation
// error plateaus" and gives neither the factor nor the number of decays; AlexNet divided by 10
// when the validation error stopped improving. plateau_schedule automates that rule (it is
// torch.optim.lr_scheduler.ReduceLROnPlateau in mode "min", relative threshold, no cooldown);
// step_schedule is the fixed alternative (torch's StepLR).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "../core/error.hpp"

namespace convis {

/// lr = base · gamma^floor(epoch / every), epochs counted from 0: epochs 0..every-1 run at base.
struct step_schedule {
    int every = 1;
    double gamma = 0.1;

    double lr_at(double base, int epoch) const {
        if (every <= 0) throw error("step_schedule: 'every' must be positive, got " + std::to_string(every));
        if (epoch < 0) throw error("step_schedule: epoch must be >= 0, got " + std::to_string(epoch));
        return base * std::pow(gamma, double(epoch / every));
    }
};

/// Half a cosine from `base` at step 0 down to 0 after `total` steps, taken per optimiser step
/// (not per epoch), so that even a one-epoch run ends at a small rate. Not from the paper, which
/// annealed by hand; a common schedule for short runs.
struct cosine_schedule {
    std::int64_t total = 1;

    double lr_at(double base, std::int64_t step) const {
        if (total <= 0) throw error("cosine_schedule: 'total' must be positive, got " + std::to_string(total));
        const double t = double(std::clamp<std::int64_t>(step, 0, total)) / double(total);
        return base * 0.5 * (1 + std::cos(3.14159265358979323846 * t));
    }
};

/// Multiplies the rate by `factor` once the metric (lower is better, e.g. validation loss or
/// error) has failed to improve for more than `patience` consecutive epochs. An epoch improves
/// when metric < best · (1 − threshold). After a reduction the count of bad epochs restarts.
class plateau_schedule {
public:
    explicit plateau_schedule(double factor = 0.1, int patience = 2, double threshold = 1e-4)
        : factor_(factor), patience_(patience), threshold_(threshold) {
        if (!(factor > 0 && factor < 1)) throw error("plateau_schedule: factor must be in (0, 1), got " + std::to_string(factor));
        if (patience < 0) throw error("plateau_schedule: patience must be >= 0, got " + std::to_string(patience));
        if (!(threshold >= 0)) throw error("plateau_schedule: threshold must be >= 0, got " + std::to_string(threshold));
    }

    /// Observes one epoch's metric; returns the learning rate for the next epoch.
    double observe(double lr, double metric) {
        if (metric < best_ * (1 - threshold_)) {
            best_ = metric;
            bad_ = 0;
        } else if (++bad_ > patience_) {
            bad_ = 0;
            return lr * factor_;
        }
        return lr;
    }

    /// The best metric so far (+inf before the first) and the epochs since it; a checkpoint saves
    /// both and restores them with restore().
    double best() const { return best_; }
    int bad_epochs() const { return bad_; }
    void restore(double best, int bad_epochs) {
        best_ = best;
        bad_ = bad_epochs;
    }

private:
    double factor_;
    int patience_;
    double threshold_;
    double best_ = std::numeric_limits<double>::infinity();
    int bad_ = 0;
};

}  // namespace convis
