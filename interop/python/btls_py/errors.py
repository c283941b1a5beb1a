"""The one error type of the protocol core, mapped to its alert in one place (SPEC §9).

Every check in the state machines raises ``ProtocolError`` with the alert of its row of the
error table and the requirement behind it; ``Connection`` turns it into exactly one fatal alert
(BT-ALERT-3), or into silence where the peer may not be answered (BT-ALERT-4, BT-HS-11).
"""

from .registry import AlertDescription


class ProtocolError(Exception):
    """An error detected by this party: the alert to send, the requirement and a message."""

    def __init__(self, alert: AlertDescription, requirement: str, message: str) -> None:
        super().__init__(message)
        self.alert = alert
        self.requirement = requirement
        self.message = message


def unexpected(what: str, state: str) -> ProtocolError:
    """BT-HS-24: a frame the state table does not list for this state."""
    return ProtocolError(
        AlertDescription.UNEXPECTED_MESSAGE, "BT-HS-24", f"unexpected {what} in state {state}"
    )
