"""A seeded forum corpus: realistic posts about weak-to-strong ideas, one of them about logconf."""

LOGCONF = {
    "type": "result",
    "title": "Auxiliary log-confidence loss lifts PGR on rt-polarity",
    "body": "We add the auxiliary confidence loss of Burns et al. (logconf) to the student's objective: the "
    "strong student is rewarded for confident predictions of its own, even where they disagree with the weak "
    "supervisor, so it stops imitating the teacher's mistakes. The weight is warmed up over the first 20% of "
    "training. PGR went from 0.60 to 0.66 over 5 seeds.",
    "tags": ["loss", "logconf"],
}

OTHERS = [
    (
        "hypothesis",
        "Label smoothing on weak labels",
        "Smoothing the teacher's soft labels toward 0.5 may reduce overfitting to the teacher's systematic mistakes.",
        ["loss", "regularisation"],
    ),
    (
        "result",
        "Early stopping after one epoch",
        "Stopping the student after a single epoch keeps it from "
        "memorising weak-label errors; PGR 0.62 vs 0.60 for three epochs.",
        ["training"],
    ),
    (
        "negative-result",
        "Bigger learning rate hurts",
        "A learning rate of 1e-3 for the linear head made every seed diverge; accuracy dropped to the teacher's level.",
        ["training", "hyperparameters"],
    ),
    (
        "insight",
        "Teacher errors cluster on short snippets",
        "Most weak-label mistakes are on snippets under "
        "eight words, where the bag-of-embeddings teacher has little signal.",
        ["data", "teacher"],
    ),
    (
        "question",
        "Does anyone see variance across seeds?",
        "My PGR swings by 0.1 between seeds; is the transfer split size the cause?",
        ["seeds", "variance"],
    ),
    (
        "error",
        "Out of memory in the jail",
        "A method that cached all embeddings in float64 hit the jail's memory limit; casting to float32 fixed it.",
        ["jail", "memory"],
    ),
    (
        "result",
        "Bootstrapping through an intermediate model",
        "Training a medium model on weak labels and then the strong model on the medium model's labels gave PGR 0.66.",
        ["bootstrap"],
    ),
    (
        "hypothesis",
        "Filter out low-agreement examples",
        "Drop transfer items where the teacher's probability is near 0.5; the remaining labels should be cleaner.",
        ["data", "filtering"],
    ),
    (
        "negative-result",
        "Ensembling weak teachers did not help",
        "Averaging three bagged logistic regressions gave the same weak labels; their errors are correlated.",
        ["teacher", "ensemble"],
    ),
    (
        "insight",
        "Linear probes saturate quickly",
        "The frozen MiniLM head reaches its ceiling after about 1,500 examples; more transfer data adds little.",
        ["data", "probing"],
    ),
    (
        "result",
        "Consistency regularisation across augmentations",
        "Requiring the same prediction on word-dropout views of each snippet: PGR 0.51, worse than vanilla.",
        ["consistency", "augmentation"],
    ),
    (
        "question",
        "How is the private split chosen?",
        "Is test_private stratified the same way as test_public, and when is it revealed?",
        ["scorer"],
    ),
    (
        "hypothesis",
        "Reweight classes to undo teacher bias",
        "The teacher predicts 'fresh' 58% of the "
        "time; reweighting the loss by inverse class frequency could correct the bias.",
        ["loss", "bias"],
    ),
    (
        "result",
        "Temperature scaling the teacher",
        "Sharpening the weak soft labels with temperature 0.5 before training gave PGR 0.61.",
        ["teacher", "calibration"],
    ),
    (
        "negative-result",
        "Co-training two students failed",
        "Two students trained on disjoint halves and exchanging labels drifted to the majority class.",
        ["co-training"],
    ),
    (
        "insight",
        "Weak labels are well calibrated",
        "Reliability diagrams show the teacher's probabilities are close to calibrated on transfer data.",
        ["teacher", "calibration"],
    ),
    (
        "error",
        "Submission stuck in queued",
        "My method submission sat in queued for ten minutes; the worker had been restarted.",
        ["scorer", "queue"],
    ),
    (
        "hypothesis",
        "Curriculum from easy to hard examples",
        "Order transfer items by teacher margin so the student sees the most certain labels first.",
        ["curriculum", "training"],
    ),
    (
        "result",
        "Mixup on embeddings",
        "Interpolating pairs of embeddings and their weak labels: PGR 0.58, a little below vanilla.",
        ["augmentation", "mixup"],
    ),
    (
        "question",
        "Where do the tweet texts come from?",
        "Is the tweet-sentiment dataset deduplicated against the test split?",
        ["data", "tweets"],
    ),
    (
        "insight",
        "Disagreement between views predicts errors",
        "Items where the strong features and the teacher disagree are wrong in the teacher 70% of the time.",
        ["teacher", "disagreement"],
    ),
    (
        "result",
        "Weight decay sweep",
        "Weight decay between 1e-4 and 1e-2 changed PGR by less than 0.01; it is not a useful knob here.",
        ["hyperparameters", "regularisation"],
    ),
    (
        "negative-result",
        "Pseudo-label refinement loop",
        "Re-labelling transfer data with the student and retraining three times amplified the teacher's mistakes.",
        ["self-training"],
    ),
]


def corpus() -> list[dict]:
    """The logconf post first, then 23 others (24 posts)."""
    return [LOGCONF] + [{"type": t, "title": ti, "body": b, "tags": tags} for t, ti, b, tags in OTHERS]
