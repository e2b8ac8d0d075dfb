from trytond.model import fields
from trytond.pool import PoolMeta


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'
    # Fulfil's variant name (fulfil-api.md §5.1); Tryton 6.0 has no such field.
    variant_name = fields.Char("Variant Name")
