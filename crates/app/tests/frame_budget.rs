//! How the lab spreads its work over frames (`Lab::tick`), checked on what it does, not on how long it
//! takes: with no time to spare, a frame takes one step, or one piece of the metrics due, never both; the
//! metrics computed in pieces are those of their own step, equal to a run that evaluates in one call; the
//! heat map's grid follows the snapshot.

use spherelab_app::backend_choice::BackendPreference;
use spherelab_app::lab::{Command, HeatGrid, Lab};
use spherelab_core::{Cpu, Trainer};

mod common;
use common::small_config as config;

/// A lab that has no time to spare in a frame: each frame does the least that keeps it moving.
fn starved_lab() -> Lab {
    let mut lab = Lab::new(config(), BackendPreference::Cpu);
    lab.schedule.frame_budget_ms = 0.0;
    lab.schedule.steps_per_frame = 50;
    lab.schedule.playing = true;
    lab
}

#[test]
fn a_starved_frame_takes_one_step_or_one_piece_of_metrics_never_both() {
    let mut lab = starved_lab();
    let mut frames_with_metric_work = 0;
    for _ in 0..200 {
        let pending = lab.session().unwrap().evaluations_pending();
        let before = lab.step_count();
        assert!(lab.tick());
        let taken = lab.step_count() - before;
        if pending > 0 {
            frames_with_metric_work += 1;
            let still = lab.session().unwrap().evaluations_pending();
            // A frame that found metrics pending worked on them; it trained only if they were then done.
            assert!(taken == 0 || still == 0, "trained {taken} steps with metrics still pending");
        } else {
            assert_eq!(taken, 1, "a frame with nothing pending and no time takes exactly one step");
        }
    }
    let lab_metrics = &lab.session().unwrap().history().metrics;
    assert!(frames_with_metric_work > lab_metrics.len(), "metrics took several frames each");
    assert!(lab_metrics.len() >= 5, "{} metric records", lab_metrics.len());
    assert!(lab_metrics.iter().all(|m| m.step % 5 == 0), "each record is that of a metric step");
}

#[test]
fn metrics_spread_over_frames_equal_metrics_computed_at_once() {
    let mut lab = starved_lab();
    while lab.step_count() < 30 {
        lab.tick();
    }
    lab.schedule.playing = false;
    while lab.tick() {}
    let spread = lab.session().unwrap().history().clone();

    let mut plain = Trainer::new(Cpu::<f32>::new(), config()).unwrap();
    for s in 1..=lab.step_count() {
        plain.step().unwrap();
        if s % 5 == 0 {
            plain.evaluate().unwrap();
        }
    }
    plain.collect_losses(true).unwrap();
    assert_eq!(spread.steps, plain.history().steps);
    assert_eq!(spread.metrics, plain.history().metrics);
}

#[test]
fn the_heat_grid_is_evaluated_with_each_snapshot() {
    let mut lab = Lab::new(config(), BackendPreference::Cpu);
    assert!(lab.views.heat.is_none(), "nothing asked for a grid yet");
    let grid = HeatGrid { min: [-1.5, -1.0], max: [2.5, 1.5], res: 12 };
    lab.apply(Command::SetHeatGrid(Some(grid)));
    let heat = lab.views.heat.clone().expect("the grid is evaluated at once");
    assert_eq!((heat.grid, heat.step, heat.z.rows, heat.h.rows), (grid, 0, 144, 144));
    // The values are the model's on the cell centres.
    let (h, z) = lab.session().unwrap().forward(&grid.points());
    assert_eq!((&heat.h, &heat.z), (&h, &z));
    lab.apply(Command::Step);
    let heat = lab.views.heat.clone().unwrap();
    assert_eq!(heat.step, 1, "a new snapshot re-evaluates the grid");
    assert_ne!(heat.z, z, "with the model of step 1");
    lab.apply(Command::SetHeatGrid(None));
    assert!(lab.views.heat.is_none());
}
