"""rasd (رصد): Arabic security-news entity tagging and operation classification with a joint BERT model.

    from rasd import Predictor
    predictor = Predictor.from_pretrained("models/rasd-ar-base", device="auto")
    predictor.predict(["..."])
"""
from .inference import Predictor
from .labels import ENTITY_TYPES, OPERATION_TYPES

__all__ = ["Predictor", "ENTITY_TYPES", "OPERATION_TYPES"]
__version__ = "0.1.0"
