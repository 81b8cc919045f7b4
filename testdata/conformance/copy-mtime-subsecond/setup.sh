mkdir times
echo a > times/fraction
touch -d '2019-05-06 07:08:09.123456789 UTC' times/fraction
echo b > times/old
touch -d '1999-12-31 23:59:59 UTC' times/old
echo c > times/pre-epoch
touch -d '1960-01-01 00:00:00 UTC' times/pre-epoch
