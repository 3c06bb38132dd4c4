"""Probe: spaCy tokenises English and trains a tiny NER in code (no pretrained pipeline).

Checks blank("en") tokenisation on a known sentence, then trains an NER on five examples
with two labels and checks that the loss falls and the entities of a training sentence
are predicted back.
"""

from __future__ import annotations

from typing import Any

from _common import (
    check,
    dist_version,
    import_time,
    is_offline,
    repeat_timed,
    run_probe,
    stage,
    workload,
)

IMPORT_RUNS = 3
SEED = 0
WORKLOAD_DOCS = 200  # the training sentences, repeated, through the trained pipeline
UPDATES = 30
SENTENCE = "Apple isn't looking at buying U.K. startup for $1 billion."
EXPECTED_TOKENS = [
    *("Apple", "is", "n't", "looking", "at", "buying", "U.K.", "startup", "for", "$", "1"),
    *("billion", "."),
]
# (text, [(start, end, label)]) with two labels: FRUIT and CITY.
TRAIN_DATA = [
    ("I ate an apple in Paris", [(9, 14, "FRUIT"), (18, 23, "CITY")]),
    ("Berlin sells the best banana", [(0, 6, "CITY"), (22, 28, "FRUIT")]),
    ("She bought a mango in Madrid", [(13, 18, "FRUIT"), (22, 28, "CITY")]),
    ("Oslo has no cherry trees", [(0, 4, "CITY"), (12, 18, "FRUIT")]),
    ("We shared a pear near Rome", [(12, 16, "FRUIT"), (22, 26, "CITY")]),
]


def versions() -> dict[str, str | None]:
    names = ("spacy", "thinc", "blis", "numpy", "cymem", "preshed", "srsly")
    return {name: dist_version(name) for name in names}


def check_tokeniser(spacy: Any, result: dict[str, Any]) -> None:
    tokens = [token.text for token in spacy.blank("en")(SENTENCE)]
    result["tokens"] = tokens
    check(tokens == EXPECTED_TOKENS, f"unexpected tokens {tokens}")


def train_ner(spacy: Any) -> tuple[Any, list[float]]:
    """A blank English pipeline with an NER trained for UPDATES full-batch steps: (nlp, losses)."""
    from spacy.training import Example

    spacy.util.fix_random_seed(SEED)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for _text, spans in TRAIN_DATA:
        for _start, _end, label in spans:
            ner.add_label(label)
    examples = [
        Example.from_dict(nlp.make_doc(text), {"entities": spans}) for text, spans in TRAIN_DATA
    ]
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(UPDATES):
        step: dict[str, float] = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(float(step["ner"]))
    return nlp, losses


def check_ner(spacy: Any, result: dict[str, Any]) -> None:
    with stage(result, "ner_train"):
        nlp, losses = train_ner(spacy)
    result["train_seconds"] = result["timings"]["ner_train"]
    result.update(loss_first=losses[0], loss_last=losses[-1], loss_min=min(losses))
    check(losses[-1] < losses[0], f"NER loss did not fall: {losses[0]} -> {losses[-1]}")
    text, spans = TRAIN_DATA[0]
    with stage(result, "ner_predict"):
        doc = nlp(text)
    predicted = [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
    result["predicted_entities"] = [[doc.text[s:e], label] for s, e, label in predicted]
    check(predicted == spans, f"predicted {predicted}, trained on {spans}")
    with stage(result, "workload"):
        result["workload"] = documents_per_second(nlp)


def documents_per_second(nlp: Any) -> dict[str, Any]:
    """Documents per second through the trained tokeniser + NER (nlp.pipe), repeated."""
    texts = [TRAIN_DATA[i % len(TRAIN_DATA)][0] for i in range(WORKLOAD_DOCS)]
    seconds = repeat_timed(lambda: list(nlp.pipe(texts)))
    return workload(
        f"nlp.pipe of {WORKLOAD_DOCS} short documents (tokeniser + the trained NER)",
        "documents/s",
        [WORKLOAD_DOCS / s for s in seconds if s > 0],
        True,
    )


def main(result: dict[str, Any]) -> None:
    result["offline"] = is_offline()
    result["versions"] = versions()
    with stage(result, "import"):
        import spacy
    with stage(result, "tokenise"):
        check_tokeniser(spacy, result)
    check_ner(spacy, result)
    with stage(result, "import_time"):
        result["import_time"] = {"spacy": import_time("spacy", runs=IMPORT_RUNS)}


if __name__ == "__main__":
    run_probe(main)
