from trytond.model import fields
from trytond.pool import PoolMeta


class Address(metaclass=PoolMeta):
    __name__ = 'party.address'
    # Fulfil's address keeps Tryton's older name for the postal code (fulfil-api.md §5.2); Tryton 6.0 calls it postal_code.
    # Fulfil's second street line (fulfil-api.md §5.2); Tryton 6.0 has one multi-line street.
    street_bis = fields.Char("Street (bis)")
    zip = fields.Function(fields.Char("Zip"), 'get_zip', setter='set_zip', searcher='search_zip')

    def get_zip(self, name):
        return self.postal_code

    @classmethod
    def set_zip(cls, addresses, name, value):
        cls.write(addresses, {'postal_code': value})

    @classmethod
    def search_zip(cls, name, clause):
        return [('postal_code',) + tuple(clause[1:])]
