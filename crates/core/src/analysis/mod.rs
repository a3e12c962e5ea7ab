//! Analysis of embeddings and runs: the metrics (kNN, linear probe, alignment/uniformity, hardness, rank),
//! sample difficulty and pruning scores, 2-D projections of wider data, the angular density of d = 2 embeddings, the study's statistics, and the similarity-graph theory of Zhang et al. (docs/math.md §5).

pub mod density;
pub mod difficulty;
pub mod metrics;
pub mod projection;
pub mod stats;
pub mod theory;
pub mod verdict;
