DROP TABLE ratings;
DROP TABLE books;
