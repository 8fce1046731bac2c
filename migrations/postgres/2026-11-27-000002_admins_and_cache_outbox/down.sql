DROP TABLE cache_invalidations;
DROP TABLE admins;
