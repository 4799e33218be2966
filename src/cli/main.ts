console.log('podsec');
