//! Mixture-of-experts routing as transformers 5.25 computes it, per token, in f64.
//!
//! - Mixtral (`MixtralTopKRouter`): softmax over the router logits, the top k, the k
//!   weights renormalised to sum to 1;
//! - Qwen3-MoE and OLMoE (`Qwen3MoeTopKRouter`, `OlmoeTopKRouter`): softmax, the top k,
//!   renormalised only with `norm_topk_prob` (default false: the weights sum to under 1);
//! - DeepSeek-V3 (`DeepseekV3TopkRouter`): sigmoid scores; the choice adds
//!   `e_score_correction_bias`; each of `n_group` groups scores the sum of its two best
//!   choices, the best `topk_group` groups stay and the top k of their experts are
//!   chosen; the weights are the chosen experts' sigmoid scores (without the bias),
//!   divided by their sum + 1e-20 with `norm_topk_prob` (default true), times
//!   `routed_scaling_factor` (default 2.5).
//!
//! Ties (which `torch.topk` breaks in no documented order) go to the lower index.

use crate::error::{Error, Result};

/// How a family turns router logits into k (expert, weight) pairs per token.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Softmax, top k, renormalised when `renormalize`.
    Softmax { renormalize: bool },
    /// DeepSeek-V3's group-limited sigmoid routing.
    GroupLimited {
        groups: usize,
        topk_groups: usize,
        renormalize: bool,
        scale: f64,
    },
}

/// A router: expert count, k and the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    pub experts: usize,
    pub top_k: usize,
    pub rule: Rule,
}

impl Router {
    /// Checks what `torch.topk` would refuse (k over the experts it chooses from, groups
    /// that do not split the experts or hold fewer than two), in one line.
    pub fn check(&self, family: &str) -> Result<()> {
        let bad = |why: String| {
            Err(Error::Usage(format!(
                "probe --hf-config: the {family} router cannot route: {why}"
            )))
        };
        if self.top_k == 0 || self.top_k > self.experts {
            return bad(format!(
                "num_experts_per_tok {} is not between 1 and the {} experts",
                self.top_k, self.experts
            ));
        }
        if let Rule::GroupLimited {
            groups,
            topk_groups,
            ..
        } = self.rule
        {
            if groups == 0 || !self.experts.is_multiple_of(groups) {
                return bad(format!(
                    "n_group {groups} does not split the {} experts",
                    self.experts
                ));
            }
            let per_group = self.experts / groups;
            if per_group < 2 {
                return bad(format!(
                    "n_group {groups} leaves {per_group} expert a group; a group's score is \
                     its two best experts' sum"
                ));
            }
            if topk_groups == 0 || topk_groups > groups {
                return bad(format!(
                    "topk_group {topk_groups} is not between 1 and n_group {groups}"
                ));
            }
            if self.top_k > topk_groups * per_group {
                return bad(format!(
                    "num_experts_per_tok {} exceeds the {} experts of the topk_group {} \
                     groups it chooses from",
                    self.top_k,
                    topk_groups * per_group,
                    topk_groups
                ));
            }
        }
        Ok(())
    }

    /// One token's k (expert, weight) pairs from its router logits; `correction` is
    /// DeepSeek-V3's `e_score_correction_bias`.
    pub fn route(&self, logits: &[f64], correction: Option<&[f64]>) -> Vec<(usize, f64)> {
        match self.rule {
            Rule::Softmax { renormalize } => {
                let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
                let total: f64 = exp.iter().sum();
                let probs: Vec<f64> = exp.iter().map(|e| e / total).collect();
                let mut chosen: Vec<(usize, f64)> = top(&probs, self.top_k)
                    .into_iter()
                    .map(|e| (e, probs[e]))
                    .collect();
                if renormalize {
                    let sum: f64 = chosen.iter().map(|c| c.1).sum();
                    chosen.iter_mut().for_each(|c| c.1 /= sum);
                }
                chosen
            }
            Rule::GroupLimited {
                groups,
                topk_groups,
                renormalize,
                scale,
            } => {
                let scores: Vec<f64> = logits.iter().map(|l| 1.0 / (1.0 + (-l).exp())).collect();
                let choice: Vec<f64> = match correction {
                    Some(b) => scores.iter().zip(b).map(|(s, b)| s + b).collect(),
                    None => scores.clone(),
                };
                let per_group = self.experts / groups;
                let group_scores: Vec<f64> = choice
                    .chunks(per_group)
                    .map(|g| top(g, 2).iter().map(|&i| g[i]).sum())
                    .collect();
                let kept = top(&group_scores, topk_groups);
                let masked: Vec<f64> = choice
                    .iter()
                    .enumerate()
                    .map(|(e, c)| {
                        if kept.contains(&(e / per_group)) {
                            *c
                        } else {
                            f64::NEG_INFINITY
                        }
                    })
                    .collect();
                let mut chosen: Vec<(usize, f64)> = top(&masked, self.top_k)
                    .into_iter()
                    .map(|e| (e, scores[e]))
                    .collect();
                if renormalize {
                    let denominator = chosen.iter().map(|c| c.1).sum::<f64>() + 1e-20;
                    chosen.iter_mut().for_each(|c| c.1 /= denominator);
                }
                chosen.iter_mut().for_each(|c| c.1 *= scale);
                chosen
            }
        }
    }

    /// What the rule computes, for reports.
    pub fn describe(&self) -> String {
        match &self.rule {
            Rule::Softmax { renormalize: true } => format!(
                "softmax over {} experts, top {}, weights renormalised to sum 1",
                self.experts, self.top_k
            ),
            Rule::Softmax { renormalize: false } => format!(
                "softmax over {} experts, top {}, weights not renormalised (norm_topk_prob false)",
                self.experts, self.top_k
            ),
            Rule::GroupLimited {
                groups,
                topk_groups,
                renormalize,
                scale,
            } => format!(
                "sigmoid scores + e_score_correction_bias over {} experts in {groups} groups, \
                 the best {topk_groups} groups (each scored by its two best), top {} of \
                 theirs; weights the sigmoid scores{}, times {scale}",
                self.experts,
                self.top_k,
                if *renormalize {
                    " renormalised to sum 1"
                } else {
                    ""
                }
            ),
        }
    }
}

/// The indices of the `k` largest values, largest first, ties to the lower index.
fn top(values: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn softmax_top_k_with_and_without_renormalising() {
        let logits = [0.0, 2.0f64.ln(), 3.0f64.ln(), 4.0f64.ln()];
        // Softmax: 1/10, 2/10, 3/10, 4/10.
        let mixtral = Router {
            experts: 4,
            top_k: 2,
            rule: Rule::Softmax { renormalize: true },
        };
        let r = mixtral.route(&logits, None);
        assert_eq!((r[0].0, r[1].0), (3, 2));
        assert!(
            close(r[0].1, 4.0 / 7.0) && close(r[1].1, 3.0 / 7.0),
            "{r:?}"
        );
        let qwen = Router {
            rule: Rule::Softmax { renormalize: false },
            ..mixtral.clone()
        };
        let r = qwen.route(&logits, None);
        assert!(close(r[0].1, 0.4) && close(r[1].1, 0.3), "{r:?}");
        // Ties go to the lower index.
        assert_eq!(top(&[1.0, 2.0, 2.0, 0.0], 2), [1, 2]);
    }

    #[test]
    fn group_limited_routing_keeps_the_best_groups() {
        // 6 experts in 3 groups of 2; correction bias lifts expert 0.
        let router = Router {
            experts: 6,
            top_k: 2,
            rule: Rule::GroupLimited {
                groups: 3,
                topk_groups: 1,
                renormalize: true,
                scale: 2.5,
            },
        };
        router.check("deepseek_v3").unwrap();
        let logits = [0.0, 0.0, 3.0, -1.0, 1.0, 1.0];
        let s = |l: f64| 1.0 / (1.0 + (-l).exp());
        // Group sums: 1.0, s(3) + s(-1) ≈ 1.22, 2·s(1) ≈ 1.46: group 2 wins.
        let r = router.route(&logits, None);
        assert_eq!((r[0].0, r[1].0), (4, 5));
        assert!(close(r[0].1, 1.25) && close(r[1].1, 1.25), "{r:?}");
        // A bias of 1 on expert 0 makes group 0's sum 2: it wins; the weights stay the
        // unbiased scores (0.5 each, renormalised: 1.25 each).
        let bias = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let r = router.route(&logits, Some(&bias));
        assert_eq!((r[0].0, r[1].0), (0, 1));
        assert!(close(r[0].1, 1.25), "{r:?}");
        // Without renormalising: the sigmoid scores times the scale.
        let plain = Router {
            rule: Rule::GroupLimited {
                groups: 3,
                topk_groups: 2,
                renormalize: false,
                scale: 1.0,
            },
            ..router.clone()
        };
        let r = plain.route(&logits, None);
        assert_eq!((r[0].0, r[1].0), (2, 4));
        assert!(close(r[0].1, s(3.0)) && close(r[1].1, s(1.0)), "{r:?}");
        // What torch.topk would refuse is refused.
        let too_many = Router {
            top_k: 3,
            ..router.clone()
        };
        assert!(too_many.check("deepseek_v3").is_err());
        let singles = Router {
            rule: Rule::GroupLimited {
                groups: 6,
                topk_groups: 2,
                renormalize: true,
                scale: 1.0,
            },
            ..router
        };
        assert!(singles.check("deepseek_v3").is_err());
    }
}
