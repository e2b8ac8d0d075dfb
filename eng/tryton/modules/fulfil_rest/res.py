from trytond.pool import PoolMeta

APPLICATION = 'fulfil_rest'


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # A Fulfil personal access token acts as its user; Tryton's own application keys model it.
        cls.application.selection.append((APPLICATION, "Fulfil REST v2"))
