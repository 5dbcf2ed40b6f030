"""The member directory: every member of the workspace, so reports know who nobody has noticed yet."""

from bot.core.context import Feature
from bot.directory.jobs import MEMBER_DIRECTORY

FEATURE = Feature(name="directory", jobs=(MEMBER_DIRECTORY,))
