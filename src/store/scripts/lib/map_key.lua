-- defines: MAP_KEY
-- needs: TAG
-- The seat map's sold state: per row label, one character per seat,
-- 'a' (not sold) or 'b' (sold).
local MAP_KEY = 'map:' .. TAG
