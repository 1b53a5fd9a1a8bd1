from beanie import Document

from app.settings import SettingsView

from .concept import USER_DIRECTORY, Switches

DOCUMENTS: list[type[Document]] = []


class SwitchesSettings(SettingsView):
    user_directory_enabled: bool


def create(settings: SwitchesSettings) -> Switches:
    return Switches(off=[] if settings.user_directory_enabled else [USER_DIRECTORY])


__all__ = ["DOCUMENTS", "USER_DIRECTORY", "Switches", "create"]
