from trytond.pool import PoolMeta


class ShipmentOutReturn(metaclass=PoolMeta):
    __name__ = 'stock.shipment.out.return'

    def _get_inventory_move(self, incoming_move):
        move = super()._get_inventory_move(incoming_move)
        # Fulfil receives a return into the location its return order names (quarantine). Tryton's own domain on
        # inventory moves still applies: the location must be under the warehouse storage or one of its waste locations.
        line = incoming_move.origin
        sale = getattr(line, 'sale', None)
        location = getattr(sale, 'return_location', None)
        if move and location:
            move.to_location = location
        return move
