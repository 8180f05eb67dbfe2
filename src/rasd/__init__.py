"""rasd (رصد): Arabic security-news entity tagging and operation classification with a joint BERT model.

    from rasd import Predictor
    predictor = Predictor.from_pretrained("models/rasd-ar-base", device="auto")
    predictor.predict(["..."])
"""
from .labels import ENTITY_TYPES, OPERATION_TYPES

__all__ = ["Predictor", "ENTITY_TYPES", "OPERATION_TYPES"]
__version__ = "0.1.0"


def __getattr__(name):
    # Predictor pulls in torch and transformers; data-only tools (rasd.text, rasd.data, rasd.corpora) need neither.
    if name == "Predictor":
        from .inference import Predictor
        return Predictor
    raise AttributeError(f"module 'rasd' has no attribute {name!r}")
